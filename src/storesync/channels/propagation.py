"""Privacy erasures, corrections and restrictions carried to the sales channels (ADR 0019,
ADR 0025).

The privacy engine plans one ``Propagation`` row per connection that received the subject's
data and, from a worker job, sends ``privacy.signals.erasure_requested`` /
``correction_requested`` / ``restriction_requested`` / ``restriction_lift_requested`` per due
row. The receivers here do the platform call through the connector and report with
``propagation_record_result``: ``ok`` (with what the platform did, in words) only when the
platform accepted (or did not know the person: nothing to do there), otherwise the error,
which keeps the row pending for the engine's backoff and, after the last attempt, ``failed``
with a "retry now" button. Every call is audited. Restrictions: ``privacy_restriction``.

What to erase is captured by ``capture_erasure_targets``, an erasure step that runs inside the
local erasure's transaction before anything is erased: the platform customer ids of the
subject's orders (``OrderCustomer``, stored when an order is applied), those orders' external
ids, and the email only when no id is known. Corrections read the subject at send time (the
request still holds its verified email) and are held while the customer has restricted the
sync of personal fields.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import transaction

from storesync.channels.connectors.base import (
    ChannelError,
    ContactCorrection,
    CustomerRef,
    PrivacyResult,
)
from storesync.channels.models import Connection, ConsentHold, ErasureTarget, OrderCustomer
from storesync.core.errors import Conflict
from storesync.core.logs import get_logger
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Order
from storesync.privacy.propagation import propagation_record_result
from storesync.privacy.requests_models import DataSubjectRequest
from storesync.privacy.restrictions import subject_restrictions
from storesync.privacy.subject_data import Subject, subject_find
from storesync.security import audit
from storesync.security.access import Purpose, personal_data_access

log = get_logger(__name__)
ACTOR = audit.Actor.system("channels")
RESTRICTION_ACTIONS = ("restriction", "restriction_lift")
RESTRICTED = ("held: the customer has restricted the processing of their data (GDPR Art. 18), "
              "so corrected personal fields are not sent to channels; lift the restriction, "
              "then retry")


class NotPropagated(Exception):
    """Why a propagation cannot be done now (shown on the request page, retried)."""


# --- what to erase, captured before the local erasure ---------------------------------------

def platform_ids(order_rows: list[tuple[uuid.UUID, uuid.UUID, str]]
                  ) -> dict[uuid.UUID, tuple[set[str], set[str]]]:
    """connection -> (platform customer ids, external order ids) of these orders."""
    links = dict(OrderCustomer.objects.filter(order_id__in=[o for o, _, _ in order_rows])
                 .values_list("order_id", "external_customer_id"))
    out: dict[uuid.UUID, tuple[set[str], set[str]]] = {}
    for order_id, connection_id, external_id in order_rows:
        customers, orders = out.setdefault(connection_id, (set(), set()))
        if external_id:
            orders.add(external_id)
        if order_id in links:
            customers.add(links[order_id])
    return out


def request_email(request: DataSubjectRequest) -> str:
    with personal_data_access(actor=ACTOR, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        return request.email or ""


def capture_erasure_targets(subject: Subject, request: DataSubjectRequest) -> int:
    """Erasure step (runs first, in the erasure's transaction): one ``ErasureTarget`` per
    connection of the subject's orders; the orders' platform-customer links go with the
    erasure (the target keeps them until the platform confirmed)."""
    if not subject.connection_ids:
        return 0
    rows = list(Order.objects.filter(subject.orders, connection_id__isnull=False)
                .values_list("id", "connection_id", "external_id"))
    found = platform_ids(rows)
    email = ""
    if any(not customers for customers, _ in found.values()):
        email = request_email(request)
    ErasureTarget.objects.bulk_create([
        ErasureTarget(workspace_id=subject.workspace_id, request_id=request.id,
                      connection_id=connection_id, customer_ids=sorted(customers),
                      order_ids=sorted(orders), email=(email or None) if not customers else None)
        for connection_id, (customers, orders) in found.items()], ignore_conflicts=True)
    OrderCustomer.objects.filter(order_id__in=[o for o, _, _ in rows]).delete()
    # A marketing consent kept for a restriction's lift goes with the person.
    for connection_id, (customers, _) in found.items():
        ConsentHold.objects.filter(connection_id=connection_id,
                                   customer_id__in=customers).delete()
    return len(found)


def order_customer_record(*, connection: Connection, order_id: uuid.UUID,
                          external_customer_id: str) -> None:
    """Remember the platform's customer id of an applied channel order (caller's scope)."""
    if not external_customer_id:
        return
    updated = OrderCustomer.objects.filter(order_id=order_id).exclude(
        external_customer_id=external_customer_id).update(
        external_customer_id=external_customer_id)
    if not updated:
        OrderCustomer.objects.get_or_create(
            order_id=order_id, defaults={"workspace_id": connection.workspace_id,
                                         "connection": connection,
                                         "external_customer_id": external_customer_id})


# --- the platform calls ----------------------------------------------------------------------

def _erasure_ref(request: DataSubjectRequest, connection: Connection) -> CustomerRef:
    target = ErasureTarget.objects.filter(request_id=request.id, connection=connection).first()
    if target is None:
        raise NotPropagated(f"storesync did not record which {connection.platform} customer "
                            "this is (the erasure ran before channel propagation existed); "
                            "erase the customer in the channel's admin")
    with personal_data_access(actor=ACTOR, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        email = target.email or ""
    return CustomerRef(tuple(target.customer_ids), tuple(target.order_ids), email)


def _correction(request: DataSubjectRequest) -> tuple[ContactCorrection, str]:
    """(the new values, the verified email the subject is found by) of a correction."""
    with personal_data_access(actor=ACTOR, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        email = request.email or ""
        wanted = json.loads(request.details or "{}")
    wanted.pop("message", None)
    fields = {k: str(v) for k, v in wanted.items()
              if k in ("first_name", "last_name", "email", "phone")}
    return ContactCorrection(**fields), email


def _correction_ref(request: DataSubjectRequest, connection: Connection,
                    email: str) -> CustomerRef:
    restricted = subject_restrictions(workspace_id=request.workspace_id,
                                      customer_ids=[uuid.UUID(c) for c in request.customer_ids])
    if any(r.sync_personal_fields for r in restricted.values()):
        raise NotPropagated(RESTRICTED)
    return subject_ref(request, connection, email)


def subject_ref(request: DataSubjectRequest, connection: Connection,
                email: str) -> CustomerRef:
    """The request's subject as ``connection``'s platform knows them: the platform customer
    ids and order ids of their imported orders there, the email only when no id is known."""
    subject = subject_find(workspace_id=request.workspace_id, email=email,
                           customer_ids=[uuid.UUID(c) for c in request.customer_ids])
    rows = list(Order.objects.filter(subject.orders, connection_id=connection.id)
                .values_list("id", "connection_id", "external_id"))
    customers, orders = platform_ids(rows).get(connection.id, (set(), set()))
    return CustomerRef(tuple(sorted(customers)), tuple(sorted(orders)),
                       "" if customers else email)


def _call(action: str, request: DataSubjectRequest, connection: Connection) -> PrivacyResult:
    from storesync.channels.services import connector_for

    if request.source == "platform" and request.connection_id == connection.id:
        return PrivacyResult(0, f"{connection.platform} itself sent this request: nothing to "
                                "send back")
    if action in RESTRICTION_ACTIONS:
        from storesync.channels.privacy_restriction import restriction_call

        return restriction_call(action, request, connection)
    if action == "erasure":
        ref = _erasure_ref(request, connection)
        return connector_for(connection).erase_customer(ref)
    correction, email = _correction(request)
    if not correction.changed():
        return PrivacyResult(0, "no contact field to correct")
    ref = _correction_ref(request, connection, email)
    return connector_for(connection).correct_customer(ref, correction)


def propagate(*, action: str, workspace_id: uuid.UUID, request_id: uuid.UUID,
              propagation_id: uuid.UUID, connection_id: str) -> bool:
    """Do one connection's erasure, correction, restriction or lift and report it; True
    when confirmed."""
    with workspace_scope(workspace_id):
        connection = Connection.objects.filter(id=connection_id).first()
        request = DataSubjectRequest.objects.filter(id=request_id).first()
        error, result = "", PrivacyResult(0)
        if connection is None or request is None:
            error = (f"this connection was removed: carry out the {action} in the channel's "
                     "admin by hand") if request else "no such request"
        else:
            try:
                result = _call(action, request, connection)
            except NotPropagated as why:
                error = str(why)
            except ChannelError as failure:
                error = f"{connection.platform} refused: {failure.message}"
            except Exception as failure:
                log.exception("privacy_propagation_crashed", propagation=str(propagation_id))
                error = f"storesync could not call {connection.platform}: " \
                        f"{type(failure).__name__}"
        _audit(action, workspace_id, request_id, connection, result, error)
        if not error and connection is not None:
            ErasureTarget.objects.filter(request_id=request_id, connection=connection).delete()
    _report(workspace_id, propagation_id, ok=not error, error=error, note=result.note)
    return not error


def _audit(action: str, workspace_id: uuid.UUID, request_id: uuid.UUID,
           connection: Connection | None, result: PrivacyResult, error: str) -> None:
    audit.record(action=audit.Action.CHANNEL_PRIVACY_CALL, actor=ACTOR,
                 workspace_id=workspace_id, subject_type="privacy_request",
                 subject_id=request_id,
                 detail={"action": action, "ok": not error,
                         "connection": str(connection.id) if connection else "",
                         "platform": connection.platform if connection else "",
                         "acted_on": result.acted_on, "note": result.note,
                         "error": error[:300]})


def _report(workspace_id: uuid.UUID, propagation_id: uuid.UUID, *, ok: bool,
            error: str, note: str = "") -> None:
    try:
        with transaction.atomic():
            propagation_record_result(workspace_id=workspace_id,
                                      propagation_id=propagation_id, ok=ok, error=error,
                                      note=note)
    except Conflict:  # confirmed already (a concurrent retry): nothing left to say
        log.info("privacy_propagation_already_confirmed", propagation=str(propagation_id))
    if not ok:
        log.warning("privacy_propagation_refused", propagation=str(propagation_id))


# --- signal receivers --------------------------------------------------------------------------

def _receive(action: str, kwargs: dict[str, Any]) -> bool | None:
    if kwargs.get("recipient_type") != "connection":
        return None  # processors are someone else's
    propagate(action=action, workspace_id=kwargs["workspace_id"],
              request_id=kwargs["request_id"], propagation_id=kwargs["propagation_id"],
              connection_id=kwargs["recipient_id"])
    return True


def on_erasure_requested(sender: Any, **kwargs: Any) -> bool | None:
    return _receive("erasure", kwargs)


def on_correction_requested(sender: Any, **kwargs: Any) -> bool | None:
    return _receive("correction", kwargs)


def on_restriction_requested(sender: Any, **kwargs: Any) -> bool | None:
    return _receive("restriction", kwargs)


def on_restriction_lift_requested(sender: Any, **kwargs: Any) -> bool | None:
    return _receive("restriction_lift", kwargs)
