"""The couple's side of the guest features: routes under their own page
(``/api/page/{id}/…``), which answer 404 for a page that is not the caller's before
anything else (``mochung.server.pages.own_page``)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from mochung.domain.models import Page
from mochung.server.http.wire import endpoint, path_id
from mochung.server.pages import own_page


class GuestRoutes(web.RouteTableDef):
    """A guest feature's route table, with the route each feature gives the couple alike."""

    def removal(self, path: str, remove: Callable[[Page, uuid.UUID], Awaitable[object]], summary: str) -> None:
        """``DELETE path``: the couple takes one guest's thing (the last ``{…Id}`` of the
        path) off their page with ``remove``: 204, or 404 for another's page or no such thing."""
        child = path.rsplit("{", 1)[1].rstrip("}")

        @self.delete(path)
        @endpoint(summary=summary, tag="guests", auth="user", status=204, errors=(404,), load=own_page)
        async def remove_one(request: web.Request, found: Page) -> web.Response:
            await remove(found, path_id(request, child))
            return web.Response(status=204)
