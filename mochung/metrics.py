"""Prometheus metrics of one process (docs/architecture.md "Metrics").

Nothing here is created at import: :func:`create_metrics` builds a fresh
``CollectorRegistry`` and every metric on it, once per web app (``create_app``) and once
per worker process (the worker's start-up); in embedded mode the in-process worker
shares the web app's. Tests build many apps in one process, each with its own registry.

Conventions: ``mochung_`` prefix, counters end in ``_total``, durations are ``_seconds``,
and every label takes a bounded set of values (a route template, an event name, a
status) — never a user id, a session id or a raw path.

Each process serves its own registry (no ``PROMETHEUS_MULTIPROC_DIR``): a web process at
``GET /metrics``, each worker process on its own port. See the README ("Metrics").
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "authorised", "create_metrics", "exposition"]

# Request and chat latencies: from a few ms (cached REST) to minutes (a hosted model's turn).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
MODEL_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
LabelledMetric = TypeVar("LabelledMetric", Counter, Gauge, Histogram)
UNMATCHED_ROUTE = "unmatched"  # a path no route matches (404/405): one label value for them all


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    # HTTP (web)
    http_requests: Counter
    http_request_duration: Histogram
    # Socket.IO (web)
    socketio_connections: Gauge
    socketio_connects: Counter
    socketio_events: Counter
    relay_subscriptions: Gauge
    relay_sockets: Gauge
    # chat turns (worker; web for the queue)
    chat_turns: Counter
    chat_turns_in_flight: Gauge
    chat_queue_depth: Gauge
    chat_queue_wait: Histogram
    chat_first_chunk: Histogram
    chat_answer: Histogram
    chat_tool_calls: Counter
    # model calls (worker)
    model_calls: Counter
    model_call_duration: Histogram
    model_tokens: Counter
    # payments, logins, rate limits (web)
    payments: Counter
    payment_webhooks: Counter
    login_failures: Counter
    rate_limited: Counter
    # (metric, its labels as given) → the labelled child; the values are bounded like the labels
    _children: dict[tuple[int, tuple[tuple[str, str], ...]], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def child(self, metric: LabelledMetric, **labels: str) -> LabelledMetric:
        """``metric.labels(**labels)``, looked up once per set of values. Every labelled
        metric is reached this way: prometheus-client's ``labels()`` costs ~15 µs a call, a
        tenth of a cached public page's whole request and more than a socket event's own
        work."""
        key = (id(metric), tuple(labels.items()))
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(**labels)
        return cast(LabelledMetric, found)


def create_metrics(process: str) -> Metrics:
    """Every metric of mochung on a new registry. ``process`` is ``web`` or ``worker``
    (only as the ``mochung_process_info`` label: both kinds register the same names)."""
    registry = CollectorRegistry(auto_describe=True)
    info = Gauge("mochung_process_info", "This process (value 1)", ["kind"], registry=registry)
    info.labels(kind=process).set(1)  # once, at start

    def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, doc, list(labels), registry=registry)

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, list(labels), registry=registry)

    def histogram(name: str, doc: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()) -> Histogram:
        return Histogram(name, doc, list(labels), registry=registry, buckets=buckets)

    return Metrics(
        registry=registry,
        http_requests=counter(
            "mochung_http_requests_total",
            "HTTP requests by route template, method and status",
            ("route", "method", "status"),
        ),
        http_request_duration=histogram(
            "mochung_http_request_duration_seconds", "HTTP request latency", HTTP_BUCKETS, ("route", "method")
        ),
        socketio_connections=gauge("mochung_socketio_connections", "Socket.IO connections open now", ("namespace",)),
        socketio_connects=counter(
            "mochung_socketio_connects_total", "Socket.IO connection attempts by outcome", ("namespace", "outcome")
        ),
        socketio_events=counter(
            "mochung_socketio_events_total", "Socket.IO events received, by name and outcome", ("event", "outcome")
        ),
        relay_subscriptions=gauge(
            "mochung_relay_subscriptions",
            "Chat channels this web process is subscribed to (sessions with a local socket)",
        ),
        relay_sockets=gauge("mochung_relay_sockets", "Local sockets joined to a chat room"),
        chat_turns=counter("mochung_chat_turns_total", "Chat turns ended, by final run status", ("status",)),
        chat_turns_in_flight=gauge("mochung_chat_turns_in_flight", "Chat turns running in this process now"),
        chat_queue_depth=gauge("mochung_chat_queue_depth", "Chat turns waiting in the queue (read at scrape time)"),
        chat_queue_wait=histogram(
            "mochung_chat_queue_wait_seconds", "From the message accepted to the turn started", TURN_BUCKETS
        ),
        chat_first_chunk=histogram(
            "mochung_chat_first_chunk_seconds", "From the message accepted to the answer's first chunk", TURN_BUCKETS
        ),
        chat_answer=histogram(
            "mochung_chat_answer_seconds", "From the message accepted to the turn's end (answer stored)", TURN_BUCKETS
        ),
        chat_tool_calls=counter("mochung_chat_tool_calls_total", "Tools the agents called, by tool", ("tool",)),
        model_calls=counter("mochung_model_calls_total", "Model calls by outcome", ("model", "outcome")),
        model_call_duration=histogram(
            "mochung_model_call_duration_seconds", "Latency of one model call", MODEL_BUCKETS, ("model",)
        ),
        model_tokens=counter(
            "mochung_model_tokens_total", "Tokens the provider reported, by direction", ("model", "direction")
        ),
        payments=counter(
            "mochung_payments_total",
            "Payment outcomes: created, then each verification's resulting status",
            ("status",),
        ),
        payment_webhooks=counter("mochung_payment_webhooks_total", "PortOne webhooks by outcome", ("outcome",)),
        login_failures=counter("mochung_login_failures_total", "Failed logins by reason", ("reason",)),
        rate_limited=counter(
            "mochung_rate_limited_total", "Requests and events refused by a rate limit, by where", ("route",)
        ),
    )


def exposition(metrics: Metrics) -> bytes:
    """The text exposition format of the registry."""
    return generate_latest(metrics.registry)


def authorised(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
