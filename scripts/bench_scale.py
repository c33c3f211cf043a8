#!/usr/bin/env python
"""Scale benchmark (not a test): ``--couples`` couples (default 1,000) at once in distributed
mode on ``--web`` web processes and ``--workers`` worker processes (default 2 and 2, default
flags otherwise), against the OpenAI-compatible stand-in of a hosted model that
``bench_chat.py --model hosted`` uses (1.0 s to the first token, 20 tokens 20 ms apart).

The couples are spread over the web processes (as a load balancer would), each joins its own
room and all send one turn at the same moment. It prints answered / sent, errors, answers
lost (none before the deadline) and doubled (a second assistant answer to one message: must be
0), first-chunk and answer p50/p99, turns/s and CPU ms per turn of every process. It uses a
scratch PostgreSQL database on MOCHUNG_BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres), dropped after, and Redis at
MOCHUNG_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0) under a private namespace.

    .venv/bin/python scripts/bench_scale.py
    .venv/bin/python scripts/bench_scale.py --couples 400 --web 1 --workers 1
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench import chat_load, hosted
from scripts.bench.common import CpuMeter, forget_namespace, p50_p99, raise_open_files, scratch_database
from tests.e2e.stack import Stack

SETTLE_SECONDS = 3.0  # after the last answer, how long a doubled answer is waited for


async def run(args: argparse.Namespace) -> None:
    server = os.environ.get("MOCHUNG_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("MOCHUNG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    with tempfile.TemporaryDirectory(prefix="mochung-bench-scale-") as folder:
        workdir = Path(folder)
        model_url, model = hosted.start_model(workdir, args)
        try:
            with scratch_database(server) as database_url:
                stack = Stack(workdir, database_url, redis_url, **hosted.llm_env(model_url))
                stack.namespace = f"bench-{uuid.uuid4().hex[:10]}"
                try:
                    stack.migrate()
                    await _measure(stack, args, model_url)
                finally:
                    stack.stop()
                    await forget_namespace(redis_url, stack.namespace)
        finally:
            model.stop()


async def _measure(stack: Stack, args: argparse.Namespace, model_url: str) -> None:
    webs = [stack.start_serve(f"serve-{index}") for index in range(args.web)]
    workers = [stack._start(f"worker-{index}", ["worker"]) for index in range(args.workers)]  # default flags
    for url, process in webs:
        stack.wait_healthy(url, process)
    for worker in workers:
        stack.wait_worker(worker)
    pids = {process.name: process.popen.pid for _, process in webs} | {w.name: w.popen.pid for w in workers}
    first = hosted.Target("distributed", webs[0][0], pids)
    await hosted.make_accounts(first, args.users)
    await hosted.solo_turn(first, chat_load.DIRECT_TEXT, model_url, first.accounts)  # warm every path once

    outcome = chat_load.Outcome()
    async with chat_load.client_session() as session:
        shares = [args.couples // args.web + (index < args.couples % args.web) for index in range(args.web)]
        groups = zip(webs, shares, strict=True)
        opened = await asyncio.gather(
            *(chat_load.open_couples(session, url, first.accounts, share, outcome) for (url, _), share in groups)
        )
        couples = [couple for group in opened for couple in group]
        print(f"  {len(couples)} couples joined over {args.web} web process(es)", file=sys.stderr, flush=True)
        await asyncio.sleep(1.0)
        meter = CpuMeter(pids)
        started = time.perf_counter()
        await asyncio.gather(*(couple.send(chat_load.DIRECT_TEXT) for couple in couples))
        await asyncio.gather(*(couple.wait_answer(started + args.phase_timeout) for couple in couples))
        outcome.elapsed = time.perf_counter() - started
        outcome.cpu = meter.used()
        await asyncio.sleep(SETTLE_SECONDS)
        await chat_load.close_couples(couples)
    lost = sum(1 for couple in couples if couple.answers_seen == 0)
    chunk50, chunk99 = p50_p99(outcome.first_chunks)
    answer50, answer99 = p50_p99(outcome.answers)
    model_time = args.ttft + args.tokens * args.gap
    print(
        f"\n{args.couples} couples at once, distributed: {args.web} web + {args.workers} worker process(es), "
        f"model {model_time:.2f} s per turn"
    )
    print(
        f"  answered {len(outcome.answers)}/{outcome.sent}, errors {len(outcome.errors)}, lost {lost}, "
        f"doubled {outcome.doubled}"
    )
    print(
        f"  first chunk p50 {chunk50:.2f} s p99 {chunk99:.2f} s; answer p50 {answer50:.2f} s p99 {answer99:.2f} s "
        f"({answer50 / model_time:.2f}× / {answer99 / model_time:.2f}× the model)"
    )
    rate = len(outcome.answers) / outcome.elapsed if outcome.elapsed else float("nan")
    answered = max(1, len(outcome.answers))
    cpu = ", ".join(f"{name} {seconds * 1000 / answered:.0f}" for name, seconds in outcome.cpu.items())
    print(f"  {rate:.1f} turns/s; CPU ms per turn: {cpu}")
    if outcome.errors:
        print(f"  first error: {outcome.errors[0][:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hosted.add_arguments(parser)
    parser.add_argument("--couples", type=int, default=1000)
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    raise_open_files(4 * args.couples + 1024)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
