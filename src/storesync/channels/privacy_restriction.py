"""A restriction, objection or do-not-sell request, and its lifting, told to one connection
(GDPR Art. 19; ADR 0025).

Each call makes the platform reflect what stands *now* for the request's subject
(``privacy.restrictions.restriction_wanted``), so a retried or late row never tells a stale
story: a restriction row sent after the lift says nothing is restricted. The connector does
what its platform supports and says so (``Connector.restrict_customer``).

Marketing consents the platform had and the restriction switched off are kept here
(``ConsentHold``) and given back when marketing is no longer restricted, but only while
storesync's consent ledger still grants marketing for the subject: the ledger is the
controller's record, and without a grant there storesync does not subscribe anyone. Without
the grant the holds are dropped and the note says the consent stays off.
"""

from __future__ import annotations

from django.db.models import Q

from storesync.channels.connectors.base import (
    MarketingConsent,
    ProcessingRestriction,
    RestrictionResult,
)
from storesync.channels.models import Connection, ConsentHold
from storesync.channels.propagation import request_email, subject_ref
from storesync.privacy.consent import consent_check
from storesync.privacy.requests_models import DataSubjectRequest
from storesync.privacy.restrictions import FLAGS_EXCLUDING, restriction_wanted
from storesync.privacy.subjects import Subject


def _ledger_refusal(request: DataSubjectRequest) -> str:
    """'' when the consent ledger grants marketing for one of the subject's customers, else
    why not (shown in the propagation's note)."""
    if not request.customer_ids:
        return "storesync holds no marketing consent of this person"
    reason = ""
    for customer_id in request.customer_ids:
        check = consent_check(workspace_id=request.workspace_id,
                              subject=Subject("customer", str(customer_id)),
                              purpose="marketing")
        if check.allowed:
            return ""
        reason = check.reason
    return f"storesync's consent ledger does not allow marketing ({reason})"


def _as_consent(hold: ConsentHold) -> MarketingConsent:
    return MarketingConsent(hold.customer_id, hold.channel, hold.state, hold.opt_in_level,
                            hold.changed_at)


def restriction_call(action: str, request: DataSubjectRequest,
                     connection: Connection) -> RestrictionResult:
    """Tell ``connection`` what stands for the request's subject; keep or give back the
    marketing consents it switches."""
    from storesync.channels.services import connector_for

    wanted = restriction_wanted(request=request, action=action)
    ref = subject_ref(request, connection, request_email(request))
    holds = list(ConsentHold.objects.filter(connection=connection).filter(
        Q(customer_id__in=ref.customer_ids) | Q(request_id=request.id)))
    refusal = "" if wanted.uses.marketing or not holds else _ledger_refusal(request)
    restriction = ProcessingRestriction(
        flags=tuple(sorted(wanted.flags)),
        uses=tuple(use for use in FLAGS_EXCLUDING if getattr(wanted.uses, use)),
        reference=str(request.id),
        restore=() if wanted.uses.marketing or refusal else tuple(map(_as_consent, holds)))
    result = connector_for(connection).restrict_customer(ref, restriction)
    # The first switch-off is what the person had: a later restriction of someone already
    # unsubscribed holds nothing new (ignore_conflicts keeps the first).
    ConsentHold.objects.bulk_create([
        ConsentHold(workspace_id=request.workspace_id, connection=connection,
                    customer_id=held.customer_id, channel=held.channel, state=held.state,
                    opt_in_level=held.opt_in_level, changed_at=held.changed_at,
                    request_id=request.id) for held in result.held], ignore_conflicts=True)
    note = result.note
    if wanted.uses.marketing:
        return result
    if refusal and holds:
        ConsentHold.objects.filter(id__in=[h.id for h in holds]).delete()
        note += f"; {len(holds)} marketing consent(s) the restriction switched off stay off: " \
                f"{refusal}"
    else:
        given_back = {(c.customer_id, c.channel) for c in result.restored}
        ConsentHold.objects.filter(id__in=[h.id for h in holds if (h.customer_id, h.channel)
                                           in given_back]).delete()
    return RestrictionResult(result.acted_on, note, held=result.held,
                             restored=result.restored)
