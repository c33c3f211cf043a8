"""``GET /api/page/public/:slug/calendar.ics``: add the wedding to a calendar."""

from __future__ import annotations

from aiohttp import web

from mochung.domain.guests.calendar import calendar_file
from mochung.domain.guests.wedding import wedding_facts
from mochung.domain.pages import public_page
from mochung.server import keys
from mochung.server.http.replies import download
from mochung.server.http.wire import endpoint

routes = web.RouteTableDef()


@routes.get("/api/page/public/{slug}/calendar.ics")
@endpoint(
    summary="The wedding as an iCalendar file (RFC 5545): Asia/Seoul time, a reminder the day before",
    tag="guests",
    response="text/calendar",
    errors=(404,),
)
async def calendar(request: web.Request) -> web.Response:
    page = await public_page(request.match_info["slug"])
    link = request.app[keys.SETTINGS].frontend_page_url(page.slug)
    body = calendar_file(page, wedding_facts(page.component_data), link)
    return download(body, "text/calendar; charset=utf-8", f"{page.slug}.ics", cache=None)
