"""Every typed key of the web application's state, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from tortoise.context import TortoiseContext

from mochung.adapters.ratelimit import RateLimiter
from mochung.server.evaluation_runs import Evaluations
from mochung.settings import Settings

# A health check answers a short status word ("ok", "embedded", "sandbox", …) or raises.
HealthCheck = Callable[[], Awaitable[str]]

SETTINGS = web.AppKey("settings", Settings)
JWT_KEY = web.AppKey("jwt_key", str)
DATABASE = web.AppKey("database", TortoiseContext)
REDIS = web.AppKey("redis", Redis | None)  # type: ignore[arg-type]
HTTP = web.AppKey("http", aiohttp.ClientSession)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)  # type: ignore[type-abstract]
HEALTH_CHECKS = web.AppKey("health_checks", dict[str, HealthCheck])
EVALUATIONS = web.AppKey("evaluations", Evaluations)
