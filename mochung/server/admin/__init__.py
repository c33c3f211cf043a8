"""The admin REST API (PROTOCOL.md "Admin"), split by topic; ``create_app`` adds these
route tables and cleanup contexts. Payments' admin routes live with payments."""

from __future__ import annotations

from mochung.server.admin import evaluation, moderation, stats, users

ROUTE_TABLES = (stats.routes, users.routes, moderation.routes, evaluation.routes)
CLEANUP_CONTEXTS = (evaluation.evaluations_context,)
