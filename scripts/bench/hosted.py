"""``bench_chat.py --model hosted``: mochung against an OpenAI-compatible stand-in of a hosted
model, beside a bare stack server under the same load, in one run.

Order: start the stand-in (scripts/bench/model_stub.py); the bare server
(scripts/bench/bare_chat.py) — burst and sustained, direct script; then for each mode
(embedded: one ``mochung serve``; distributed: ``mochung serve`` + ``mochung worker``, default
flags, on a scratch PostgreSQL database and a private Redis broker namespace): one solo turn
per script (the model's own time per turn, from the stand-in's ``/stats``), the burst, the
sustained arrivals, the multi-agent burst and the logins. Every wait is bounded by
``--phase-timeout``; a turn not answered by then is an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scripts.bench import chat_load
from scripts.bench.chat_load import DIRECT_TEXT, MULTI_TEXT, Account, LoginLag, Outcome
from scripts.bench.common import CpuMeter, accepting, forget_namespace, p50_p99, ratio, scratch_database
from tests.e2e.stack import Process, Stack, free_port, wait_until
from tests.support import PASSWORD

BENCH = Path(__file__).resolve().parent
FIXTURE = BENCH.parent.parent / "mochung" / "agents" / "evaluation" / "fixtures" / "minsu-jieun.yaml"
PHASES = ("burst", "sustained", "multi", "logins")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("--model hosted")
    group.add_argument("--modes", default="embedded,distributed", help="comma-separated: embedded, distributed")
    group.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, from {', '.join(PHASES)}")
    group.add_argument("--burst", type=int, default=200, help="couples sending at the same moment (default 200)")
    group.add_argument("--rate", type=float, default=20.0, help="sustained arrivals per second (default 20)")
    group.add_argument("--duration", type=float, default=30.0, help="seconds of sustained arrivals (default 30)")
    group.add_argument("--multi", type=int, default=40, help="couples at once on the multi-agent script (40)")
    group.add_argument("--logins", type=int, default=10, help="logins at once while turns stream (default 10)")
    group.add_argument("--users", type=int, default=20, help="users registered over REST per stack (default 20)")
    group.add_argument("--ttft", type=float, default=1.0, help="model: seconds to the first token (default 1.0)")
    group.add_argument("--tokens", type=int, default=20, help="model: tokens of an answer (default 20)")
    group.add_argument("--gap", type=float, default=0.02, help="model: seconds between tokens (default 0.02)")
    group.add_argument("--tool-pieces", type=int, default=3, help="model: streamed pieces of a tool call (3)")
    group.add_argument("--phase-timeout", type=float, default=180.0, help="bound of one phase's wait, s (180)")
    group.add_argument("--no-bare", action="store_true", help="skip the bare stack server")


@dataclass
class Target:
    name: str
    url: str
    pids: dict[str, int]
    accounts: list[Account] = field(default_factory=list)
    credentials: list[tuple[str, str]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def meter(self) -> CpuMeter:
        return CpuMeter(self.pids)


def _json(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def make_account(url: str, with_page: bool) -> tuple[Account, tuple[str, str]]:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    user = _json(f"{url}/api/auth/register", {"email": email, "password": PASSWORD})
    token = _json(f"{url}/api/auth/login", {"email": email, "password": PASSWORD})["access_token"]
    wedding_id = None
    if with_page:
        fixture = yaml.safe_load(FIXTURE.read_text())
        page = {"title": fixture["title"], "componentData": fixture["componentData"]}
        wedding_id = _json(f"{url}/api/page/publish", page, token)["id"]
    return Account(user["id"], token, wedding_id), (email, PASSWORD)


async def make_accounts(target: Target, count: int) -> None:
    gate = asyncio.Semaphore(4)

    async def one() -> tuple[Account, tuple[str, str]]:
        async with gate:
            return await asyncio.to_thread(make_account, target.url, True)

    made = await asyncio.gather(*(one() for _ in range(count)))
    target.accounts = [account for account, _ in made]
    target.credentials = [credential for _, credential in made]


def model_stats(model_url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{model_url}/stats", timeout=10) as response:
        return json.loads(response.read())


async def solo_turn(target: Target, text: str, model_url: str, accounts: list[Account]) -> tuple[float, int, float]:
    """One turn alone: (model seconds of the turn, model calls, answer seconds)."""
    before = model_stats(model_url)
    outcome = await chat_load.burst(target.url, accounts, 1, text, 60.0, target.meter)
    after = model_stats(model_url)
    calls = int(after["calls"] - before["calls"])
    answer = outcome.answers[0] if outcome.answers else float("nan")
    return after["nominal_seconds"] - before["nominal_seconds"], calls, answer


def start_model(workdir: Path, args: argparse.Namespace) -> tuple[str, Process]:
    port = free_port()
    command = [sys.executable, str(BENCH / "model_stub.py"), str(port), "--ttft", str(args.ttft)]
    command += ["--tokens", str(args.tokens), "--gap", str(args.gap), "--tool-pieces", str(args.tool_pieces)]
    process = Process("model", command, dict(os.environ), workdir)
    wait_until(lambda: process.check_alive() or accepting(port), "the model stand-in")
    return f"http://127.0.0.1:{port}", process


def start_bare(workdir: Path, model_url: str) -> tuple[Target, Process]:
    port = free_port()
    command = [sys.executable, str(BENCH / "bare_chat.py"), str(port), f"{model_url}/v1"]
    process = Process("bare", command, dict(os.environ), workdir)
    wait_until(lambda: process.check_alive() or accepting(port), "the bare server")
    target = Target("bare", f"http://127.0.0.1:{port}", {"web": process.popen.pid})
    target.accounts = [Account(str(uuid.uuid4()), None)]
    return target, process


def llm_env(model_url: str) -> dict[str, str]:
    base = f"{model_url}/v1"
    return {
        "MOCHUNG_LLM": "openai:gpt-bench",
        "OPENAI_BASE_URL": base,
        "OPENAI_API_BASE": base,
        "OPENAI_API_KEY": "bench-key-not-secret",
        # the bench's own traffic from one address: no per-user or per-address refusals
        "MOCHUNG_CHAT_MESSAGES_PER_MINUTE": "1000000",
        "MOCHUNG_LOGIN_MAX_ATTEMPTS": "1000000",
        "MOCHUNG_CHAT_SESSIONS_PER_HOUR": "1000000",
    }


def start_embedded(workdir: Path, model_url: str) -> tuple[Target, Stack]:
    folder = workdir / "embedded"
    folder.mkdir()
    stack = Stack(folder, "", "", **llm_env(model_url))
    env = stack.env()
    for name in ("MOCHUNG_DATABASE_URL", "MOCHUNG_REDIS_URL", "MOCHUNG_JWT_SECRET", "MOCHUNG_BROKER_NAMESPACE"):
        env.pop(name, None)  # nothing configured but the model: SQLite, in-process worker, generated secret
    port = free_port()
    process = Process("serve", [sys.executable, "-m", "mochung", "serve", "--port", str(port)], env, folder)
    stack.processes.append(process)
    url = f"http://127.0.0.1:{port}"
    stack.wait_healthy(url, process)
    return Target("embedded", url, {"web+worker": process.popen.pid}), stack


def start_distributed(workdir: Path, model_url: str, database_url: str, redis_url: str) -> tuple[Target, Stack]:
    folder = workdir / "distributed"
    folder.mkdir()
    stack = Stack(folder, database_url, redis_url, **llm_env(model_url))
    stack.namespace = f"bench-{uuid.uuid4().hex[:10]}"
    stack.migrate()
    url, web = stack.start_serve("serve")
    worker = stack._start("worker", ["worker"])  # default flags
    stack.wait_healthy(url, web)
    stack.wait_worker(worker)
    return Target("distributed", url, {"web": web.popen.pid, "worker": worker.popen.pid}), stack


async def run_phases(target: Target, args: argparse.Namespace, phases: list[str], model_url: str) -> None:
    limit = args.phase_timeout
    print(f"  {target.name}: phases {', '.join(phases)}", file=sys.stderr, flush=True)
    if target.name != "bare":
        target.results["solo-direct"] = await solo_turn(target, DIRECT_TEXT, model_url, target.accounts)
        if "multi" in phases:
            target.results["solo-multi"] = await solo_turn(target, MULTI_TEXT, model_url, target.accounts)
    else:
        target.results["solo-direct"] = await solo_turn(target, DIRECT_TEXT, model_url, target.accounts)
    if "burst" in phases:
        outcome = await chat_load.burst(target.url, target.accounts, args.burst, DIRECT_TEXT, limit, target.meter)
        target.results["burst"] = outcome
        print(f"    burst {args.burst}: {outcome.line()}", file=sys.stderr, flush=True)
    if "sustained" in phases:
        outcome = await chat_load.sustained(
            target.url, target.accounts, args.rate, args.duration, DIRECT_TEXT, limit, target.meter, seed=11
        )
        target.results["sustained"] = outcome
        print(f"    sustained: {outcome.line()}", file=sys.stderr, flush=True)
    if target.name == "bare":
        return
    if "multi" in phases:
        outcome = await chat_load.burst(target.url, target.accounts, args.multi, MULTI_TEXT, limit, target.meter)
        target.results["multi"] = outcome
        print(f"    multi {args.multi}: {outcome.line()}", file=sys.stderr, flush=True)
    if "logins" in phases:
        credentials = (target.credentials * args.logins)[: args.logins]
        lag = await chat_load.logins_while_streaming(target.url, target.accounts, credentials, 20, limit, target.meter)
        target.results["logins"] = lag
        print(f"    logins: health max {lag.health_max_ms:.0f} ms", file=sys.stderr, flush=True)


def report(targets: list[Target], args: argparse.Namespace, model_url_stats: dict[str, float]) -> None:
    bare = next((t for t in targets if t.name == "bare"), None)
    direct_model = args.ttft + args.tokens * args.gap
    print(
        f"\nhosted model stand-in: {args.ttft:.2f} s to first token + {args.tokens} tokens {args.gap * 1000:.0f} ms "
        f"apart = {direct_model:.2f} s per call; stand-in late by at most {model_url_stats['overrun_max']:.2f} s"
    )
    for target in targets:
        seconds, calls, answer = target.results.get("solo-direct", (float("nan"), 0, float("nan")))
        line = f"  {target.name:<12} solo direct turn: {calls} call(s), model {seconds:.2f} s, answer {answer:.2f} s"
        if "solo-multi" in target.results:
            m_seconds, m_calls, m_answer = target.results["solo-multi"]
            line += f"; solo multi-agent turn: {m_calls} calls, model {m_seconds:.2f} s, answer {m_answer:.2f} s"
        print(line)
    header = (
        f"{'phase':<22} {'server':<12} {'answered':>9} {'err':>4} {'chunk p50':>9} {'p99':>6} "
        f"{'answer p50':>10} {'p99':>6} {'×model p50':>10} {'p99':>6} {'×bare p50':>9} {'p99':>6} "
        f"{'turns/s':>7}  CPU ms/turn"
    )
    for phase, label in (
        ("burst", f"burst {args.burst}"),
        ("sustained", f"Poisson {args.rate:g}/s×{args.duration:g}s"),
        ("multi", f"multi-agent {args.multi}"),
    ):
        rows = [t for t in targets if phase in t.results]
        if not rows:
            continue
        print(f"\n{header}")
        for target in rows:
            outcome: Outcome = target.results[phase]
            model_time = direct_model
            if phase == "multi":
                model_time = target.results.get("solo-multi", (float("nan"),))[0]
            chunk50, chunk99 = p50_p99(outcome.first_chunks)
            answer50, answer99 = p50_p99(outcome.answers)
            base = bare.results.get(phase) if bare is not None and phase != "multi" else None
            bare50, bare99 = p50_p99(base.answers) if base is not None else (float("nan"), float("nan"))
            rate = len(outcome.answers) / outcome.elapsed if outcome.elapsed else float("nan")
            cpu = ", ".join(
                f"{name} {seconds * 1000 / max(1, len(outcome.answers)):.0f}" for name, seconds in outcome.cpu.items()
            )
            print(
                f"{label:<22} {target.name:<12} {len(outcome.answers):>4}/{outcome.sent:<4} {len(outcome.errors):>4} "
                f"{chunk50:>8.2f}s {chunk99:>5.2f}s {answer50:>9.2f}s {answer99:>5.2f}s "
                f"{ratio(answer50, model_time):>9.2f}× {ratio(answer99, model_time):>5.2f}× "
                f"{ratio(answer50, bare50):>8.2f}× {ratio(answer99, bare99):>5.2f}× {rate:>7.1f}  {cpu}"
            )
            if outcome.errors:
                print(f"{'':<22} first error: {outcome.errors[0][:150]}")
    lags = [t for t in targets if "logins" in t.results]
    if lags:
        print(f"\n{args.logins} logins at once while 20 turns stream")
        for target in lags:
            lag: LoginLag = target.results["logins"]
            print(
                f"  {target.name:<12} /api/health alone {lag.health_alone_ms:.0f} ms, during logins p50 "
                f"{lag.health_p50_ms:.0f} ms max {lag.health_max_ms:.0f} ms (target < 250); logins took "
                f"{lag.logins_seconds:.2f} s; longest pause between chunks {lag.longest_chunk_gap_ms:.0f} ms "
                f"({lag.chunks_during} chunks); turns {lag.turns.line()}"
            )
    print(
        "\ntargets: burst answer p50/p99 ≤ 1.25× bare; sustained answer p50 ≤ 1.3× and p99 ≤ 2× the model, "
        f"first chunk p50 ≤ {args.ttft + 0.3:.1f} s; multi-agent p50 ≤ 1.5× the model's sequential time"
    )


async def run(args: argparse.Namespace) -> None:
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    phases = [phase.strip() for phase in args.phases.split(",") if phase.strip()]
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="mochung-bench-hosted-") as folder:
        workdir = Path(folder)
        model_url, model = start_model(workdir, args)
        try:
            if not args.no_bare and {"burst", "sustained"} & set(phases):
                bare, process = start_bare(workdir, model_url)
                try:
                    targets.append(bare)
                    await run_phases(bare, args, phases, model_url)
                finally:
                    process.stop()
            for mode in modes:
                try:
                    await run_mode(mode, workdir, model_url, args, phases, targets)
                except Exception as error:  # report what was measured; say what failed
                    print(f"  {mode} failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            stats = model_stats(model_url)
        finally:
            model.stop()
    report(targets, args, stats)


async def run_mode(
    mode: str, workdir: Path, model_url: str, args: argparse.Namespace, phases: list[str], targets: list[Target]
) -> None:
    if mode == "embedded":
        target, stack = start_embedded(workdir, model_url)
        try:
            await make_accounts(target, args.users)
            targets.append(target)
            await run_phases(target, args, phases, model_url)
        finally:
            stack.stop()
        return
    server = os.environ.get("MOCHUNG_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("MOCHUNG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    with scratch_database(server) as database_url:
        target, stack = start_distributed(workdir, model_url, database_url, redis_url)
        try:
            await make_accounts(target, args.users)
            targets.append(target)
            await run_phases(target, args, phases, model_url)
        finally:
            stack.stop()
            await forget_namespace(redis_url, stack.namespace)
