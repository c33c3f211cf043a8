"""Fuzzing: schemathesis against a live ``mochung serve`` (a real process on a free port),
as an anonymous caller, a user and an admin, on SQLite (embedded) and on PostgreSQL + Redis.

Every operation of ``/api/openapi.json`` is called with requests generated from the
document (valid and invalid ones) and the answers are checked: no server error, every
answer as documented (status, content type, body schema, ``Allow``), valid requests
accepted and invalid ones refused. Bounded: a few examples per operation and a time budget
per caller, so one database takes about two minutes.

What a schema cannot say is configured in ``schemathesis.toml`` beside this file (an upload
whose bytes are not an image, opaque cursors, "in the future", signed webhooks).

Server errors are counted twice: by schemathesis (its "not a server error" check, every
response it got) and in the server's own log (each request's status, and no traceback).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mochung.adapters.portone.webhooks import new_webhook_secret
from tests.e2e.stack import Process, free_port
from tests.support import PASSWORD, POSTGRES_URL, REDIS_URL, TEST_SECRET, need_service, scratch_postgres_database
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(900)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
SECONDS_PER_CALLER = int(os.environ.get("MOCHUNG_FUZZ_SECONDS", "40"))
EXAMPLES_PER_OPERATION = int(os.environ.get("MOCHUNG_FUZZ_EXAMPLES", "10"))
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


# A distributed server has no payment sandbox of its own ("payments are not configured": 503
# on every payment route); so it gets one as PortOne, in a process of its own, like production.
_SANDBOX = """
import os, sys
from aiohttp import web
from mochung.adapters.portone.sandbox.api import create_sandbox_app
app = create_sandbox_app(api_secret=os.environ["SANDBOX_API_SECRET"])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


@contextlib.contextmanager
def _payment_sandbox(workdir: Path) -> Iterator[dict[str, str]]:
    """A PortOne sandbox on a free port; yields the server's settings to use it."""
    port, secret = free_port(), secrets.token_urlsafe(32)
    env = {**os.environ, "SANDBOX_API_SECRET": secret}
    process = Process("portone", [sys.executable, "-c", _SANDBOX, str(port)], env, workdir)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        process.check_alive()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        return False

    try:
        wait_until(up, "the payment sandbox to start", within=60)
        yield {
            "MOCHUNG_PORTONE_BASE_URL": url,
            "MOCHUNG_PORTONE_API_SECRET": secret,
            "MOCHUNG_PORTONE_WEBHOOK_SECRET": new_webhook_secret(),
        }
    finally:
        process.stop()


def _env(workdir: Path, database_url: str, redis_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MOCHUNG_", "OPENAI_"))}
    env.update(
        {
            "MOCHUNG_DATABASE_URL": database_url,
            "MOCHUNG_JWT_SECRET": TEST_SECRET,
            "MOCHUNG_DATA_DIR": str(workdir / "data"),
            "MOCHUNG_LOG_FORMAT": "text",
            "MOCHUNG_LOG_LEVEL": "INFO",
            "MOCHUNG_BROKER_NAMESPACE": f"fuzz-{workdir.name}",
            # the fuzzer is one client hammering every route: no limit may stand between it and them
            "MOCHUNG_REGISTRATIONS_PER_HOUR": "1000000",
            "MOCHUNG_CHAT_SESSIONS_PER_HOUR": "1000000",
            "MOCHUNG_LOGIN_MAX_ATTEMPTS": "1000000",
            "MOCHUNG_INVITATION_VALIDATE_PER_MINUTE": "1000000",
            "MOCHUNG_GUEST_WRITES_PER_VISITOR": "1000000",
            "MOCHUNG_GUEST_WRITES_PER_IP": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if redis_url:
        env["MOCHUNG_REDIS_URL"] = redis_url
    return env


def _call(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _healthy(url: str, process: Process) -> bool:
    process.check_alive()
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
        return bool(response.status == 200)
    return False


@contextlib.contextmanager
def _live_server(
    workdir: Path, database_url: str, redis_url: str | None, settings: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """A migrated server with an admin and a user; yields its URL and their tokens."""
    env = {**_env(workdir, database_url, redis_url), **(settings or {})}
    mochung = [sys.executable, "-m", "mochung"]
    subprocess.run([*mochung, "db", "migrate"], env=env, cwd=workdir, check=True, capture_output=True, timeout=120)
    subprocess.run(
        [*mochung, "admin", "create", "admin@example.com", "--password-stdin"],
        input=PASSWORD.encode(),
        env=env,
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    process = Process("serve", [*mochung, "serve", "--port", str(port)], env, workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url, process), "the server to start", within=90)
        _call(f"{url}/api/auth/register", {"email": "user@example.com", "password": PASSWORD})
        tokens = {
            who: _call(f"{url}/api/auth/login", {"email": f"{who}@example.com", "password": PASSWORD})["access_token"]
            for who in ("user", "admin")
        }
        yield url, tokens
    finally:
        process.stop()
        log = process.log()
        assert "Traceback" not in log, f"the server logged a traceback:\n{log[-5000:]}"


def _fuzz(url: str, token: str | None, report: Path, workdir: Path) -> dict[str, Any]:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/api/openapi.json",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--max-time",
        str(SECONDS_PER_CALLER),
        "--no-shrink",
        "--seed",
        os.environ.get("MOCHUNG_FUZZ_SEED", "20261201"),
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    run = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=SECONDS_PER_CALLER + 240)
    assert report.exists(), f"schemathesis wrote no report:\n{run.stdout[-5000:]}\n{run.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(report.read_text())
    result["output"] = run.stdout
    return result


# the server's access log line of each request: "... INFO mochung.http [request id] METHOD /path STATUS"
_ACCESS = re.compile(r" mochung\.http \[[^\]]*\] \S+ .*? (\d\d\d)$", re.MULTILINE)


def _logged_5xx(log: str) -> tuple[int, int]:
    """(requests, of which 5xx) in the server's log so far."""
    statuses = _ACCESS.findall(log)
    return len(statuses), sum(status.startswith("5") for status in statuses)


def _server_errors(result: dict[str, Any]) -> int:
    """The failures of schemathesis's ``not_a_server_error`` check (ServerError and its kind
    ContentTypeServerError): how many test cases got a 5xx."""
    return sum(f["count"] for f in result.get("failures", []) if f["type"].endswith("ServerError"))


def _figures(who: str, result: dict[str, Any], logged_5xx: int) -> str:
    return (
        f"{who}: {result['operations']['tested']} operations, {result['test_cases']['generated']} examples, "
        f"{_server_errors(result)} with a 5xx ({logged_5xx} in the server's log), "
        f"{result['test_cases']['unique_failures']} violations, {len(result.get('errors', []))} errors"
    )


@pytest.fixture(params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    if request.param == "sqlite":
        with _live_server(tmp_path, f"sqlite://{tmp_path / 'data' / 'mochung.sqlite3'}", None) as found:
            yield found
        return
    server = need_service(POSTGRES_URL, "PostgreSQL")
    redis_url = need_service(REDIS_URL, "Redis")
    with (
        scratch_postgres_database(server, "mochung_fuzz") as url,
        _payment_sandbox(tmp_path) as payments,
        _live_server(tmp_path, url, redis_url, payments) as found,
    ):
        yield found


def test_the_api_survives_fuzzing_as_it_is_documented(live: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, tokens = live
    log = tmp_path / "serve.log"  # the server's output (``Process``), read as each caller ends
    figures, problems = [], []
    for who, token in (("anonymous", None), ("user", tokens["user"]), ("admin", tokens["admin"])):
        requests_before, errors_before = _logged_5xx(log.read_text(errors="replace"))
        result = _fuzz(url, token, tmp_path / f"{who}.json", tmp_path)
        server_log = log.read_text(errors="replace")
        requests_after, errors_after = _logged_5xx(server_log)
        requests, logged_5xx = requests_after - requests_before, errors_after - errors_before
        figures.append(_figures(who, result, logged_5xx))
        # nothing tested, or a log whose lines this test no longer reads, would count no 5xx at all
        if not result["test_cases"]["generated"] or not result["operations"]["tested"] or not requests:
            problems.append(f"--- as {who}: nothing was tested ---\n{result['output'][-5000:]}")
        if _server_errors(result) or logged_5xx or "Traceback" in server_log:
            problems.append(f"--- as {who}: server errors ---\n{server_log[-5000:]}")
        if result["test_cases"]["unique_failures"] or result.get("errors"):
            problems.append(f"--- as {who} ---\n{result['output'][-12000:]}")
    print("\n".join(figures))  # the figures of the run (pytest -s shows them)
    assert not problems, "\n".join(figures) + "\n" + "\n".join(problems)
