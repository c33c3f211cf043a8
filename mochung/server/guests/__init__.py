"""The guest routes of PROTOCOL.md "Guests": RSVP, guestbook, ``calendar.ics`` and the link
preview ``/i/:slug``. The couple's own routes (``/api/page/:id/…``) sit beside them; the
admins' guestbook moderation is in ``mochung.server.admin.guestbook``."""

from __future__ import annotations

from mochung.server.guests import calendar, guestbook, preview, rsvps

ROUTE_TABLES = (rsvps.routes, guestbook.routes, calendar.routes, preview.routes)
