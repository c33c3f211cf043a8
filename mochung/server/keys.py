"""Every typed key of the web application's state, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import socketio
from aiohttp import web
from redis.asyncio import Redis
from tortoise.context import TortoiseContext

from mochung.agents.evaluation.runs import Evaluations
from mochung.domain.ports import FileStorage, RateLimiter
from mochung.metrics import Metrics
from mochung.server.chat.handoff import ChatServices
from mochung.server.chat.relay import Relay
from mochung.server.pages.public_cache import PublicPageCache
from mochung.server.pages.views import ViewCounter
from mochung.server.payments.provider import Payments
from mochung.settings import Settings
from mochung.tasks.processes import ProcessRegistry
from mochung.tasks.worker import RuntimeFactory

# A health check answers a short status word ("ok", "embedded", "sandbox", …) or raises.
HealthCheck = Callable[[], Awaitable[str]]

SETTINGS = web.AppKey("settings", Settings)
JWT_KEY = web.AppKey("jwt_key", str)
DATABASE = web.AppKey("database", TortoiseContext)
# a type that is not a class (a union, a Callable) goes in the brackets: AppKey[T]("name")
REDIS = web.AppKey[Redis | None]("redis")
HTTP = web.AppKey("http", aiohttp.ClientSession)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
STORAGE = web.AppKey("storage", FileStorage)  # local folder or S3 (issue 3)
PUBLIC_PAGES = web.AppKey("public_pages", PublicPageCache)  # GET /api/page/public/:slug micro-cache
VIEWS = web.AppKey("views", ViewCounter)  # first views of the day, buffered and flushed every second
HEALTH_CHECKS = web.AppKey("health_checks", dict[str, HealthCheck])
EVALUATIONS = web.AppKey("evaluations", Evaluations)
# realtime chat (issue 5): the Socket.IO server, the turn hand-off, the live sockets registry
SOCKETIO = web.AppKey("socketio", socketio.AsyncServer)
CHAT = web.AppKey("chat", ChatServices)
LIVE_SOCKETS = web.AppKey("live_sockets", Relay)  # .live_sockets(session_id), .total(), .per_room() (this process)
# an account's rights changed: its cached copies are forgotten in every web process
ACCOUNT_CHANGED = web.AppKey[Callable[[uuid.UUID], Awaitable[None]]]("account_changed")
QUEUE_DEPTH = web.AppKey[Callable[[], Awaitable[int]]]("queue_depth")  # await app[QUEUE_DEPTH]() → chat turns queued
AGENT_RUNTIME_FACTORY = web.AppKey[RuntimeFactory]("agent_runtime_factory")  # optional; embedded worker only
PAYMENTS = web.AppKey("payments", Payments)  # the PortOne gateway or the embedded sandbox
OPENAPI_DOCUMENT = web.AppKey("openapi_document", dict[str, Any])
METRICS = web.AppKey("metrics", Metrics)  # this process's Prometheus registry (created by create_app)
PROCESSES = web.AppKey("processes", ProcessRegistry)  # every web and worker process, as they report
# each fixed path of the router and its methods (``http.middlewares``: an exact 405 and Allow)
PLAIN_PATHS = web.AppKey("plain_paths", dict[str, frozenset[str]])
