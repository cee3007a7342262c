from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from storesync.core.tenancy import system_scope
from storesync.security import audit
from storesync.security.models import AuditChainHead, AuditEvent

ACTOR = audit.Actor.system("test")


def _events(ws_id, n=5):
    for i in range(n):
        audit.record(
            action=audit.Action.CUSTOMER_UPDATED,
            actor=ACTOR,
            workspace_id=ws_id,
            subject_type="customer",
            subject_id=f"c{i}",
            fields=["customer.email"],
        )


def _verify(capsys):
    try:
        with system_scope():
            call_command("audit", "verify")
    except CommandError as exc:
        return False, capsys.readouterr().out + str(exc)
    return True, capsys.readouterr().out


def test_chain_links_every_event_to_the_previous(workspace):
    ws = workspace.workspace.id
    _events(ws)
    rows = list(AuditEvent.objects.filter(chain=str(ws)).order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    head = AuditChainHead.objects.get(chain=str(ws))
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)


def test_verify_reports_intact_chains(workspace, capsys):
    _events(workspace.workspace.id)
    ok, out = _verify(capsys)
    assert ok, out
    assert "acme" in out and "chain intact" in out


def test_changed_row_is_named_as_first_broken_link(workspace, capsys):
    ws = workspace.workspace.id
    _events(ws)
    victim = AuditEvent.objects.filter(chain=str(ws)).order_by("seq")[3]
    AuditEvent.objects.filter(id=victim.id).update(actor_id="someone-else")
    ok, out = _verify(capsys)
    assert not ok
    assert f"event #{victim.seq} (row id {victim.id}) was altered" in out


def test_deleted_middle_row_is_detected(workspace, capsys):
    ws = workspace.workspace.id
    _events(ws)
    victim = AuditEvent.objects.filter(chain=str(ws)).order_by("seq")[2]
    AuditEvent.objects.filter(id=victim.id).delete()
    ok, out = _verify(capsys)
    assert not ok
    assert f"event #{victim.seq} is missing" in out


def test_deleted_last_row_is_detected_by_the_head(workspace, capsys):
    ws = workspace.workspace.id
    _events(ws)
    AuditEvent.objects.filter(chain=str(ws)).order_by("-seq").first().delete()
    ok, out = _verify(capsys)
    assert not ok
    assert "events at the end were deleted" in out


def test_recomputed_plain_sha256_cannot_forge_the_chain(workspace, capsys):
    """The chain is keyed: rewriting a row and its hash without the master key fails."""
    import hashlib

    ws = workspace.workspace.id
    _events(ws, n=1)
    event = AuditEvent.objects.filter(chain=str(ws)).order_by("-seq").first()
    forged = hashlib.sha256(b"forged").hexdigest()
    AuditEvent.objects.filter(id=event.id).update(purpose="x", hash=forged)
    AuditChainHead.objects.filter(chain=str(ws)).update(hash=forged)
    ok, out = _verify(capsys)
    assert not ok and "was altered" in out


def test_record_is_keyword_only_with_an_action_enum(workspace):
    with pytest.raises(TypeError):
        audit.record(audit.Action.CUSTOMER_CREATED, ACTOR, workspace.workspace.id)  # type: ignore[misc]


def test_pruning_keeps_the_rest_of_the_chain_verifiable(workspace, capsys):
    ws = workspace.workspace.id
    _events(ws, n=6)
    assert audit.prune_through(str(ws), 4) == 4
    remaining = list(AuditEvent.objects.filter(chain=str(ws)).order_by("seq"))
    assert remaining[0].seq == 5
    head = AuditChainHead.objects.get(chain=str(ws))
    assert head.base_seq == 4 and head.base_hash == remaining[0].prev_hash
    _events(ws, n=2)  # appending after a prune continues the same chain
    ok, out = _verify(capsys)
    assert ok, out
    assert audit.prune_through(str(ws), 3) == 0  # already pruned: nothing more to do


def test_pruning_refuses_a_part_that_does_not_verify(workspace):
    ws = workspace.workspace.id
    _events(ws, n=5)
    total = AuditEvent.objects.filter(chain=str(ws)).count()
    victim = AuditEvent.objects.get(chain=str(ws), seq=2)
    AuditEvent.objects.filter(id=victim.id).update(purpose="rewritten")
    with pytest.raises(audit.AuditChainBroken, match="#2"):
        audit.prune_through(str(ws), 4)
    assert AuditEvent.objects.filter(chain=str(ws)).count() == total  # the evidence stays
    assert AuditChainHead.objects.get(chain=str(ws)).base_seq == 0


def test_a_moved_checkpoint_is_detected(workspace, capsys):
    ws = workspace.workspace.id
    _events(ws, n=5)
    audit.prune_through(str(ws), 2)
    # someone without the audit key deletes event 3 and moves the checkpoint past it
    third = AuditEvent.objects.get(chain=str(ws), seq=3)
    AuditEvent.objects.filter(id=third.id).delete()
    AuditChainHead.objects.filter(chain=str(ws)).update(base_seq=3, base_hash=third.hash)
    ok, out = _verify(capsys)
    assert not ok
    assert "checkpoint" in out


def test_an_event_deleted_right_after_the_checkpoint_is_detected(workspace, capsys):
    ws = workspace.workspace.id
    _events(ws, n=5)
    audit.prune_through(str(ws), 2)
    AuditEvent.objects.filter(chain=str(ws), seq=3).delete()
    ok, out = _verify(capsys)
    assert not ok
    assert "#3 is missing" in out
