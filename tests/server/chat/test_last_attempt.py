"""A turn that fails around the agents on every attempt ends as failed, and the room is
told, instead of leaving the run "running" and the client waiting (embedded mode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mochung.domain.models import AgentRun, ChatMessage, RunStatus
from mochung.server import keys
from mochung.server.app import create_app
from mochung.settings import Settings
from mochung.tasks.chat import ACTOR_OPTIONS, GAVE_UP
from tests.server.chat.helpers import ChatClient, new_room
from tests.support.users import user_with_token


class _RuntimeThatCannotStartATurn:
    """Fault injection at the worker's boundary: building the turn fails every time."""

    def turn(self, *_: Any) -> Any:
        raise RuntimeError("the model provider is misconfigured")


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient:
    app = create_app(settings)
    app[keys.AGENT_RUNTIME_FACTORY] = lambda *_: _RuntimeThatCannotStartATurn()
    return await aiohttp_client(app)


async def test_the_last_failed_attempt_ends_the_run_and_tells_the_room(sockets: Callable[..., ChatClient]) -> None:
    user_id, token = await user_with_token()
    room = new_room()
    chat = sockets()
    await chat.connect(token)
    session_id = (await chat.join(room, user_id))["session_id"]
    message_id = await chat.send(session_id, room, user_id, "예식장이 어디예요?")

    error = (await chat.wait_for("message-error", message_id=message_id))[0]

    assert error["error"] == "agent_error" and error["details"] == GAVE_UP
    run = await AgentRun.get(message_id=message_id)
    assert run.status == RunStatus.FAILED
    assert run.attempts == ACTOR_OPTIONS["max_retries"] + 1
    assert not await ChatMessage.filter(message_id=message_id, role="assistant").exists()
