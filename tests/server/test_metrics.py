"""Prometheus metrics: a web process counts a REST call, a chat turn, a payment and a failed
login with the right labels and values; the tokens a hosted model reports and the requests
and events a rate limit refuses; a worker process serves its own; scrapes without the token
are refused."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import socketio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from mochung.cli.demo import wedding_components
from mochung.domain.models import Page
from mochung.logging import JsonFormatter
from mochung.server.app import create_app
from mochung.settings import Settings
from mochung.tasks.worker import build_chat_worker
from tests.server.chat.fake_llm import unique_base_url
from tests.server.chat.helpers import ChatClient, new_room
from tests.server.payments.shop import WEBHOOK_SECRET, new_shop
from tests.support import Api
from tests.support.fakes.openai_server import FakeOpenAI
from tests.support.fakes.portone_server import FakePortOne
from tests.support.users import user_with_token
from tests.support.waiting import eventually

TOKEN = "scrape-" + "x" * 40
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def turn_counted_and_finished(samples: Samples) -> bool:
    """The turn's final status is counted a moment before its in-flight gauge drops."""
    return bool(value(samples, "mochung_chat_turns_total", status="done")) and (
        value(samples, "mochung_chat_turns_in_flight") == 0
    )


async def scrape_once_the_turn_ended(client: TestClient) -> Samples:
    return await eventually(
        lambda: scrape(client), "the turn is counted and no longer in flight", until=turn_counted_and_finished
    )


@pytest.fixture
def settings(make_settings: Callable[..., Settings], portone: FakePortOne) -> Settings:
    return make_settings(
        metrics_token=TOKEN,
        portone_api="v2",
        portone_base_url=portone.url,
        portone_api_secret=portone.api_secret,
        portone_webhook_secret=WEBHOOK_SECRET,
    )


async def scrape(client: TestClient) -> Samples:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    return parse(await response.text())


async def test_scrapes_without_the_token_are_refused(
    client: TestClient, make_settings: Callable[..., Settings]
) -> None:
    assert (await client.get("/metrics")).status == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    assert (await client.get("/metrics", headers={"Authorization": TOKEN})).status == 401  # no scheme


async def test_no_token_configured_means_no_metrics(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    unguarded = await aiohttp_client(create_app(make_settings()))
    assert (await unguarded.get("/metrics", headers={"Authorization": "Bearer "})).status == 404


async def test_a_rest_call_a_chat_turn_a_payment_and_a_bad_login_are_counted(
    client: TestClient, api: Api, portone: FakePortOne, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mochung.worker")
    # a REST call, by route template (never the raw path)
    assert (await client.get("/api/payment/plans")).status == 200
    page = await client.get(f"/api/page/public/{uuid.uuid4().hex}")
    assert page.status == 404
    # a failed login
    bad = await client.post("/api/auth/login", json={"email": "nobody@mochung.test", "password": "wrong-password"})
    assert bad.status == 401
    # a payment: created, verified paid, then PortOne's webhook
    shop = await new_shop(api, portone, "v2")
    created = await shop.create(9900, planId="basic")
    paid_id = shop.pay(created)
    assert (await shop.verify(created, paid_id)).status == 200
    assert (await shop.webhook(created, paid_id)).status == 200
    assert (await shop.webhook(created, paid_id, secret="whsec_" + "A" * 32)).status == 400
    # a chat turn over Socket.IO
    user_id, token = await user_with_token()
    chat = ChatClient(str(client.make_url("")).rstrip("/"))
    try:
        await chat.connect(token)
        session_id, message_id = await chat.turn(user_id, "예식장이 어디예요?")
        samples = await scrape_once_the_turn_ended(client)
    finally:
        await chat.close()

    assert value(samples, "mochung_http_requests_total", route="/api/payment/plans", method="GET", status="200") == 1
    assert (
        value(samples, "mochung_http_requests_total", route="/api/page/public/{slug}", method="GET", status="404") == 1
    )
    assert value(samples, "mochung_http_request_duration_seconds_count", route="/api/payment/plans", method="GET") == 1
    assert not [
        key
        for key in samples
        if any(v.startswith("/api/page/public/") and v != "/api/page/public/{slug}" for _, v in key[1])
    ]
    assert value(samples, "mochung_login_failures_total", reason="bad_credentials") == 1
    assert value(samples, "mochung_payments_total", status="created") == 1
    assert value(samples, "mochung_payments_total", status="paid") == 2  # the verify, then the webhook
    assert value(samples, "mochung_payment_webhooks_total", outcome="paid") == 1
    assert value(samples, "mochung_payment_webhooks_total", outcome="bad_signature") == 1

    assert value(samples, "mochung_socketio_connects_total", namespace="/", outcome="accepted") == 1
    assert value(samples, "mochung_socketio_connections", namespace="/") == 1
    assert value(samples, "mochung_socketio_events_total", event="joinRoom", outcome="ok") == 1
    assert value(samples, "mochung_socketio_events_total", event="chat-message", outcome="ok") == 1
    assert value(samples, "mochung_relay_subscriptions") == 1
    assert value(samples, "mochung_relay_sockets") == 1
    assert value(samples, "mochung_chat_turns_total", status="done") == 1
    assert value(samples, "mochung_chat_answer_seconds_count") == 1
    assert value(samples, "mochung_chat_first_chunk_seconds_count") == 1
    assert value(samples, "mochung_chat_queue_wait_seconds_count") == 1
    assert value(samples, "mochung_chat_turns_in_flight") == 0
    assert value(samples, "mochung_chat_queue_depth") == 0
    model_calls = value(samples, "mochung_model_calls_total", model="offline", outcome="ok")
    assert model_calls is not None and model_calls >= 1
    assert value(samples, "mochung_model_call_duration_seconds_count", model="offline") == model_calls
    tools = {dict(labels)["tool"] for name, labels in samples if name == "mochung_chat_tool_calls_total"}
    assert "call_context_agent" in tools
    # no label anywhere carries a user or session id
    everything = " ".join(v for _, labels in samples for _, v in labels)
    assert session_id not in everything and user_id not in everything and message_id not in everything

    # the turn's one log line carries the same numbers
    lines = [r for r in caplog.records if getattr(r, "event", None) == "chat_turn"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.message_id, line.session_id, line.status) == (message_id, session_id, "done")  # type: ignore[attr-defined]
    assert line.model_calls == model_calls and "call_context_agent" in line.tools  # type: ignore[attr-defined]
    assert line.first_chunk_ms is not None and line.total_ms >= line.first_chunk_ms  # type: ignore[attr-defined]
    entry = json.loads(JsonFormatter().format(line))  # the line as MOCHUNG_LOG_FORMAT=json writes it
    assert entry["event"] == "chat_turn" and entry["message_id"] == message_id and entry["session_id"] == session_id
    counted = {"status", "first_chunk_ms", "total_ms", "tools", "model_calls", "input_tokens", "output_tokens"}
    assert counted <= set(entry)


HOSTED = "openai:gpt-4o-mini"


@pytest.fixture
async def hosted_model(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    """A scripted OpenAI-compatible model (tool calls, then the answer) that reports token
    usage on its whole (non-streamed) answers, as OpenAI does; ``MOCHUNG_LLM`` points at it."""
    fake = FakeOpenAI()
    app = web.Application()
    app.router.add_post("/{prefix}/v1/chat/completions", fake.completions)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base_url = unique_base_url(str(server.make_url("/")))  # langchain-openai caches a client per base URL
    for name in ("OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.setenv(name, base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")
    try:
        yield fake
    finally:
        await server.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_reported_tokens_and_rate_limit_refusals_are_counted(
    aiohttp_client: Any,
    make_settings: Callable[..., Settings],
    hosted_model: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mochung.worker")
    settings = make_settings(metrics_token=TOKEN, llm=HOSTED, login_max_attempts=1, chat_sessions_per_hour=1)
    client = await aiohttp_client(create_app(settings))
    # a login over its limit: refused (429) before the password is even checked
    credentials = {"email": "nobody@mochung.test", "password": "wrong-password"}
    assert (await client.post("/api/auth/login", json=credentials)).status == 401
    assert (await client.post("/api/auth/login", json=credentials)).status == 429
    # a socket without a token is refused
    stranger = ChatClient(str(client.make_url("")).rstrip("/"))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await stranger.connect(None)
    # a turn on the hosted model about the couple's page, then a second new room over the limit
    user_id, token = await user_with_token()
    page = await Page.create(
        user_id=user_id, title="청첩장", slug=f"page-{uuid.uuid4().hex[:8]}", component_data=wedding_components()
    )
    chat = ChatClient(str(client.make_url("")).rstrip("/"))
    try:
        await chat.connect(token)
        _, message_id = await chat.turn(user_id, "예식장이 어디예요?", wedding_id=str(page.id))
        await chat.emit("joinRoom", {"room": new_room(), "userId": user_id})
        await chat.wait_for("message-error", error="rate_limited")
        samples = await scrape_once_the_turn_ended(client)
    finally:
        await chat.close()

    assert value(samples, "mochung_login_failures_total", reason="bad_credentials") == 1
    assert value(samples, "mochung_login_failures_total", reason="rate_limited") == 1
    assert value(samples, "mochung_http_requests_total", route="/api/auth/login", method="POST", status="429") == 1
    assert value(samples, "mochung_rate_limited_total", route="/api/auth/login") == 1
    assert value(samples, "mochung_socketio_connects_total", namespace="/", outcome="unauthorized") == 1
    assert value(samples, "mochung_socketio_connects_total", namespace="/", outcome="accepted") == 1
    assert value(samples, "mochung_socketio_events_total", event="joinRoom", outcome="ok") == 1
    assert value(samples, "mochung_socketio_events_total", event="joinRoom", outcome="rate_limited") == 1
    assert value(samples, "mochung_rate_limited_total", route="socketio:joinRoom") == 1

    # every call the model answered is counted; the tokens are those it reported: one in
    # and one out for each whole answer (the sub-agents'), none for the streamed ones
    assert value(samples, "mochung_model_calls_total", model=HOSTED, outcome="ok") == hosted_model.calls
    assert value(samples, "mochung_model_calls_total", model=HOSTED, outcome="error") is None
    assert value(samples, "mochung_model_call_duration_seconds_count", model=HOSTED) == hosted_model.calls
    whole = [request for request in hosted_model.requests if not request.get("stream")]
    assert whole and len(whole) < hosted_model.calls
    assert value(samples, "mochung_model_tokens_total", model=HOSTED, direction="input") == len(whole)
    assert value(samples, "mochung_model_tokens_total", model=HOSTED, direction="output") == len(whole)
    tools = {dict(labels)["tool"] for name, labels in samples if name == "mochung_chat_tool_calls_total"}
    assert {"call_context_agent", "get_wedding_info", "call_map_agent", "search_place"} <= tools

    # the turn's log line has the same numbers
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "chat_turn"]
    assert (line.message_id, line.status) == (message_id, "done")  # type: ignore[attr-defined]
    assert line.model_calls == hosted_model.calls and line.model_errors == 0  # type: ignore[attr-defined]
    assert (line.input_tokens, line.output_tokens) == (len(whole), len(whole))  # type: ignore[attr-defined]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(90)
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_worker_process_serves_its_own_metrics_and_reports_itself(
    aiohttp_client: Any, make_settings: Callable[..., Settings], redis_url: str, namespace: str, redis: Redis
) -> None:
    port = _free_port()
    settings = make_settings(
        redis_url=redis_url, broker_namespace=namespace, metrics_token=TOKEN, worker_metrics_port=port
    )
    client = await aiohttp_client(create_app(settings))
    worker = build_chat_worker(settings, concurrency=4)
    await asyncio.to_thread(worker.start)
    chat = ChatClient(str(client.make_url("")).rstrip("/"))
    try:
        await asyncio.to_thread(worker.run, worker.resources.serve_metrics(port))
        user_id, token = await user_with_token()
        await chat.connect(token)
        await chat.turn(user_id, "안녕하세요")
        url = f"http://127.0.0.1:{port}/metrics"

        async def worker_scrape(headers: dict[str, str]) -> tuple[int, str]:
            async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
                return response.status, await response.text()

        assert (await worker_scrape({}))[0] == 401
        assert (await worker_scrape({"Authorization": "Bearer wrong"}))[0] == 401

        async def counted() -> Samples:
            status, text = await worker_scrape({"Authorization": f"Bearer {TOKEN}"})
            assert status == 200
            return parse(text)

        samples = await eventually(
            counted,
            "the worker counts the turn and no longer runs it",
            until=turn_counted_and_finished,
        )
        assert value(samples, "mochung_process_info", kind="worker") == 1
        assert value(samples, "mochung_chat_turns_total", status="done") == 1
        assert value(samples, "mochung_chat_answer_seconds_count") == 1
        assert value(samples, "mochung_chat_turns_in_flight") == 0
        assert value(samples, "mochung_chat_queue_depth") == 0
        assert (value(samples, "mochung_model_calls_total", model="offline", outcome="ok") or 0) >= 1
        # the web process did not run the turn: it counts the socket, not the turn
        web = await scrape(client)
        assert value(web, "mochung_chat_turns_total", status="done") is None
        assert value(web, "mochung_socketio_events_total", event="chat-message", outcome="ok") == 1

        # both processes reported themselves to Redis: the admin System screen lists them
        _, admin_token = await user_with_token(admin=True)
        response = await client.get("/api/admin/system", headers={"Authorization": f"Bearer {admin_token}"})
        assert response.status == 200
        system = await response.json()
        kinds = sorted(p["kind"] for p in system["processes"])
        assert kinds == ["web", "worker"]
        worker_row = next(p for p in system["processes"] if p["kind"] == "worker")
        assert worker_row["concurrency"] == 4 and worker_row["inFlight"] == 0 and worker_row["mode"] == "distributed"
        assert system["queueDepth"] == 0
    finally:
        await chat.close()
        await asyncio.to_thread(worker.stop)
