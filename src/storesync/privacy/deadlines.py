"""When a data-subject request must be answered, by jurisdiction.

* GDPR Art. 12(3): one month from receipt (extendable by two months, with reasons).
  "One month" is calendar: 15 January → 15 February; a day that does not exist in the next
  month (31 January) falls on that month's last day.
* CCPA/CPRA, Cal. Civ. Code §1798.130(a)(2) and CCPA Regulations §7021(b): 45 calendar days
  from receipt (extendable once by 45 days).
* India, DPDP Rules 2025, Rule 14(3): a Data Fiduciary must publish, and keep to, its period
  for responding to a Data Principal's grievances, which may not exceed 90 days. The Rules set
  no separate period for access, correction or erasure, so we use that outer limit as the
  deadline; the queue shows how much of it is left, and sellers are expected to do better.
"""

from __future__ import annotations

import calendar
import datetime as dt

from storesync.privacy.requests_models import Jurisdiction

DAYS = {Jurisdiction.CCPA: 45, Jurisdiction.DPDP: 90}


def add_one_month(moment: dt.datetime) -> dt.datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(jurisdiction: str, received_at: dt.datetime) -> dt.datetime:
    """The moment a request received at ``received_at`` is overdue."""
    kind = Jurisdiction(jurisdiction)
    if kind == Jurisdiction.GDPR:
        return add_one_month(received_at)
    return received_at + dt.timedelta(days=DAYS[kind])
