"""Jobs go through the real queue (SQLite file, or Redis in production) and survive a restart."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from storesync.core.services import invitation_create
from storesync.security.audit import Actor


@pytest.fixture
def queued():
    """The configured queue, not immediate mode: jobs wait in storage until a worker runs them."""
    huey = settings.HUEY
    huey.immediate = False
    huey.flush()
    yield huey
    huey.flush()
    huey.immediate = True


@pytest.mark.django_db(transaction=True)  # a worker closes its DB connection after each job
def test_invitation_email_is_queued_then_sent_by_a_worker(workspace, queued):
    issued = invitation_create(
        workspace_id=workspace.workspace.id,
        email="w@example.com",
        role="staff",
        actor=Actor.system("test"),
        invited_by_id=None,
    )
    assert mail.outbox == []  # nothing is sent inside the request
    assert queued.pending_count() == 1
    # What a worker process does: take the job from storage and run it.
    task = queued.dequeue()
    assert issued.token not in repr(task)  # job arguments are not logged by repr
    queued.execute(task)
    assert [m.to for m in mail.outbox] == [["w@example.com"]]
    assert issued.token in mail.outbox[0].body
    assert queued.pending_count() == 0


def test_queue_backend_matches_configuration():
    from huey import RedisHuey, SqliteHuey

    expected = RedisHuey if settings.CONFIG.redis_url else SqliteHuey
    assert isinstance(settings.HUEY, expected)


def test_the_database_is_optimized_on_sqlite(db):
    from django.db import connection

    from storesync.core.tasks import optimize_database

    first = optimize_database.call_local()
    if connection.vendor != "sqlite":
        assert first == "skipped"
        return
    assert first in {"analyzed", "optimized"}
    with connection.cursor() as cursor:  # statistics now exist for the planner
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        assert cursor.fetchone()[0] == 1
    assert optimize_database.call_local() == "optimized"  # later runs only refresh
