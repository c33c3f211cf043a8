"""Metrics of real processes (distributed mode, docs/architecture.md "Metrics"): ``mochung
worker --processes 2`` serves one ``/metrics`` per process, on ``MOCHUNG_WORKER_METRICS_PORT``
+ its index, each refusing a scrape without the token; a chat turn is counted by the one
worker process that ran it (Prometheus sums the targets), its socket events by the web
process; and the admin API's process list (the System screen) shows the web process and
both worker processes."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import START_SECONDS, Stack, admin_system, free_port, register
from tests.server.chat.helpers import ChatClient
from tests.support.waiting import eventually, wait_until

pytestmark = pytest.mark.e2e
TOKEN = "scrape-" + "y" * 40
AUTHORISED = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def two_free_ports() -> int:
    """A port whose next one is free too (the two worker processes' metrics ports)."""

    def pair() -> int | None:
        port = free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                return None
        return port

    port = wait_until(pair, "two consecutive free ports")
    assert port is not None
    return port


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers or {}) as response:
        return response.status, await response.text()


async def scrape(url: str) -> Samples:
    status, text = await get(f"{url}/metrics", AUTHORISED)
    assert status == 200, text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_each_worker_process_serves_its_own_metrics(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(MOCHUNG_METRICS_TOKEN=TOKEN)
    web = stack.serve()
    port = two_free_ports()
    workers = stack.start_worker("workers", processes=2, concurrency=2, MOCHUNG_WORKER_METRICS_PORT=str(port))

    def both_running() -> bool:
        workers.check_alive()
        return workers.log().count("chat worker running") == 2

    wait_until(both_running, "both worker processes to start", within=START_SECONDS)
    targets = [f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"]
    for target in targets:
        assert (await get(f"{target}/metrics"))[0] == 401
        assert (await get(f"{target}/metrics", {"Authorization": "Bearer wrong"}))[0] == 401
        assert value(await scrape(target), "mochung_process_info", kind="worker") == 1

    user_id, token = register(web)
    chat = ChatClient(web)
    try:
        await chat.connect(token)
        await chat.turn(user_id, "안녕하세요")
    finally:
        await chat.close()

    async def scrape_all() -> list[Samples]:
        return [await scrape(target) for target in targets]

    def turn_done(every: list[Samples]) -> bool:
        return sum(value(s, "mochung_chat_turns_total", status="done") for s in every) == 1 and all(
            value(s, "mochung_chat_turns_in_flight") == 0 for s in every
        )

    every = await eventually(scrape_all, "one worker process counts the turn", until=turn_done)
    # one process ran it: the other counted nothing
    assert sorted(value(s, "mochung_chat_answer_seconds_count") for s in every) == [0, 1]
    assert sum(value(s, "mochung_model_calls_total", model="offline", outcome="ok") for s in every) >= 1
    own = await scrape(web)
    assert value(own, "mochung_process_info", kind="web") == 1
    assert value(own, "mochung_socketio_events_total", event="chat-message", outcome="ok") == 1
    assert value(own, "mochung_chat_turns_total", status="done") == 0  # the web process runs no turns

    # the admin API lists the three processes (each reports itself to Redis)
    token = await asyncio.to_thread(stack.admin_token, web)

    async def system() -> dict[str, object]:
        return await admin_system(web, token)

    def three(info: dict[str, object]) -> bool:
        processes = info["processes"]
        assert isinstance(processes, list)
        return sorted(p["kind"] for p in processes) == ["web", "worker", "worker"]

    info = await eventually(system, "the web process and both workers", until=three)
    processes = info["processes"]
    assert isinstance(processes, list)
    pids = {p["pid"] for p in processes if p["kind"] == "worker"}
    assert len(pids) == 2 and workers.popen.pid not in pids  # the children, not their supervisor
    assert all(p["concurrency"] == 2 and p["mode"] == "distributed" for p in processes if p["kind"] == "worker")
