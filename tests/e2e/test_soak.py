"""The chat soak, small (issue 12): 30 sessions × 15 s of offline turns on 2 web processes and
1 worker, with a worker ``kill -9`` and a Redis restart in the middle. Every accepted message
gets exactly one answer, none twice, no run stays queued or running. The full soak is
``scripts/soak_chat.py`` (300 sessions × 60 s)."""

from __future__ import annotations

import pytest

from scripts import soak_chat
from tests.support import POSTGRES_URL, REDIS_URL, need_service

pytestmark = pytest.mark.e2e


def test_a_small_soak_with_a_worker_kill_and_a_redis_restart() -> None:
    server = need_service(POSTGRES_URL, "PostgreSQL")
    need_service(REDIS_URL, "Redis")  # the suite's services; the soak starts its own redis-server
    report = soak_chat.run_soak(sessions=30, seconds=15, web=2, workers=1, postgres=server)
    print("\n".join(report.lines()))
    assert report.ok, "\n".join(report.lines())
