"""The admin REST API (PROTOCOL.md "Admin"), split by topic; ``create_app`` adds these
route tables and cleanup contexts. Payments' admin routes live with payments."""

from __future__ import annotations

from mochung.server import admin_evaluation, admin_moderation, admin_stats, admin_users

ROUTE_TABLES = (admin_stats.routes, admin_users.routes, admin_moderation.routes, admin_evaluation.routes)
CLEANUP_CONTEXTS = (admin_evaluation.evaluations_context,)
