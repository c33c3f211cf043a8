"""Issue 12, defect 1: nothing stays ``queued`` or ``running`` after a crash (embedded mode,
SQLite and PostgreSQL). The crash is simulated: a run the database says is in flight,
which no worker holds (the process that held it is gone)."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from mochung.domain import chat
from mochung.domain.models import AgentRun, ChatMessage, ChatSession, RunStatus
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import bearer, new_account, token_for, user_with_token
from tests.support.waiting import eventually


async def _stuck_turn(
    session_id: uuid.UUID, status: RunStatus, attempts: int, text: str = "안녕하세요", age: float = 0.0
) -> str:
    message_id = uuid.uuid4()
    await ChatMessage.create(
        id=message_id, session_id=session_id, message_id=message_id, role="user", type="text", content=text
    )
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
    await AgentRun.create(
        message_id=message_id,
        session_id=session_id,
        status=status,
        attempts=attempts,
        started_at=started if status is RunStatus.RUNNING else None,
    )
    return str(message_id)


async def _statuses(message_ids: list[str]) -> dict[str, str]:
    runs = await AgentRun.filter(message_id__in=[uuid.UUID(m) for m in message_ids])
    return {str(run.message_id): run.status.value for run in runs}


async def test_a_restart_ends_or_reruns_every_turn_the_crash_left_in_flight(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    before = await aiohttp_client(create_app(settings))
    user_id, token = await user_with_token()
    admin = await new_account(admin=True)
    room = new_room()
    session = await ChatSession.create(room=room, user_id=uuid.UUID(user_id))
    rerun = [
        await _stuck_turn(session.id, RunStatus.RUNNING, 1, "첫 번째"),
        await _stuck_turn(session.id, RunStatus.QUEUED, 0, "두 번째"),
        await _stuck_turn(session.id, RunStatus.QUEUED, 0, "세 번째"),
    ]
    given_up = await _stuck_turn(session.id, RunStatus.RUNNING, chat.MAX_ATTEMPTS, "마지막")
    # an upload cut short by the crash
    temp = settings.files_dir / ".tmp"
    temp.mkdir(parents=True, exist_ok=True)
    half_written = temp / f"{uuid.uuid4().hex}.part"
    half_written.write_bytes(b"\0" * 1024)
    if settings.distributed:  # other processes may share the folder: only old files are removed
        two_hours_ago = time.time() - 7200
        os.utime(half_written, (two_hours_ago, two_hours_ago))
    await before.close()

    after: TestClient = await aiohttp_client(create_app(settings))  # the restart
    every = [*rerun, given_up]
    statuses = await eventually(
        lambda: _statuses(every),
        "every turn to end",
        until=lambda found: all(status in ("done", "failed") for status in found.values()),
        within=60,
    )
    assert [statuses[m] for m in rerun] == ["done", "done", "done"]
    assert statuses[given_up] == "failed"
    for message_id in rerun:  # answered once each
        assert await ChatMessage.filter(message_id=message_id, role="assistant", position=0).count() == 1
    assert list(temp.iterdir()) == []

    stats = await (await after.get("/api/admin/stats", headers=bearer(token_for(admin)))).json()
    assert stats["agentRuns"]["queued"] == 0 and stats["agentRuns"]["running"] == 0

    # the client that resumes the turn that could not be rerun is told, not left waiting
    chat_client = ChatClient(str(after.make_url("")).rstrip("/"))
    try:
        await chat_client.connect(token)
        await chat_client.join(room, user_id, resume={"message_id": given_up, "after_seq": 0})
        error = await chat_client.wait_for("message-error", message_id=given_up)
        assert error[0]["error"] == "agent_error"
    finally:
        await chat_client.close()


async def test_a_turn_whose_worker_died_is_ended_and_its_room_told(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    watcher = sockets()
    await watcher.connect(token)
    session_id = (await watcher.join(room, user_id))["session_id"]
    # running for a minute, last attempt, and no worker holds it any more
    message_id = await _stuck_turn(uuid.UUID(session_id), RunStatus.RUNNING, chat.MAX_ATTEMPTS, age=60)
    error = await watcher.wait_for("message-error", message_id=message_id)
    assert error[0]["error"] == "agent_error"
    assert (await _statuses([message_id]))[message_id] == "failed"


async def test_a_turn_whose_worker_died_runs_again(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    watcher = sockets()
    await watcher.connect(token)
    session_id = (await watcher.join(room, user_id))["session_id"]
    message_id = await _stuck_turn(uuid.UUID(session_id), RunStatus.RUNNING, 1, age=60)
    answers = await watcher.answer(message_id)
    assert len(answers) >= 1
    assert (await _statuses([message_id]))[message_id] == "done"


async def test_cancel_of_a_turn_whose_worker_died_cancels_it(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat_client = sockets()
    await chat_client.connect(token)
    session_id = (await chat_client.join(room, user_id))["session_id"]
    message_id = await _stuck_turn(uuid.UUID(session_id), RunStatus.RUNNING, 1)  # just started: not yet recovered
    await chat_client.emit("cancel-message", {"message_id": message_id})
    error = await chat_client.wait_for("message-error", message_id=message_id)
    assert error[0]["error"] == "cancelled"
    assert (await _statuses([message_id]))[message_id] == "cancelled"
