"""Signals other apps subscribe to (the channels app, which privacy may not import).

All four are sent by ``propagation.dispatch`` — in a worker job, never in a web request — after
the local change has committed, once per due ``Propagation`` row (one per recipient). A
receiver that handles the row's ``recipient_type`` does the recipient's work synchronously,
reports with ``storesync.privacy.propagation.propagation_record_result`` (``ok=True`` when
the recipient confirmed, ``ok=False`` with the reason otherwise) or hands the row to a
person (``sent``: told, its answer awaited; ``waiting``: nothing can be sent yet), and returns
True; receivers for other recipient types return None. Connections are the channels app's
(``channels.propagation``), processors this app's (``privacy.processor_notices``). A row
left pending after the signal keeps its error and is retried with backoff.

kwargs of all (exactly what ``propagation._send`` sends):
``workspace_id`` (UUID), ``request_id`` (UUID), ``propagation_id`` (UUID),
``recipient_type`` ("connection" | "processor"), ``recipient_id`` (str: the connection's or
processor's id), ``scope`` ("subject" | "connection": a platform's shop-wide redaction),
``customer_ids`` (list of str: the hub customers matched at verification).
For a correction the new values are in the request's encrypted ``details``; read them through
``personal_data_access``.

``restriction_requested`` (GDPR Art. 18/19; also an objection or a do-not-sell request) and
``restriction_lift_requested`` (the restriction was lifted) carry no flag: the receiver asks
``privacy.restrictions.restriction_wanted`` what is restricted *at send time*, so a row that
is retried after the restriction was lifted (or set again by another request) tells the
recipient the truth of that moment, never a stale one.
"""

from django.dispatch import Signal

erasure_requested = Signal()
correction_requested = Signal()
restriction_requested = Signal()
restriction_lift_requested = Signal()
