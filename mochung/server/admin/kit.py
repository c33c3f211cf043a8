"""What the admin routes share: their description (tag "admin", admitted as admins: the
guard in ``mochung.server.admin`` refuses to start otherwise) and, on :class:`AdminRoutes`,
the two shapes several topics repeat: the paginated list route and the hide/unhide pair of
a moderated kind (pages, chat messages, guestbook entries)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, Field

from mochung.domain import moderation
from mochung.domain.listing import Slice
from mochung.domain.models import User
from mochung.server.http.listing import Paginated, SliceQuery
from mochung.server.http.wire import HAS_TEXT, Handler, WireModel, endpoint, respond

admin_endpoint = functools.partial(endpoint, tag="admin", auth="admin")

Q = TypeVar("Q", bound=SliceQuery)
R = TypeVar("R")
W = TypeVar("W", bound=BaseModel)
# one page of a list, already as wire items, for the query the route validated
Fetch = Callable[[web.Request, Q], Awaitable[Slice[W]]]
# hide (with the reason) or, given None, show again; answers the thing as the admin sees it
Moderate = Callable[[web.Request, User, uuid.UUID, str | None], Awaitable[BaseModel]]


class HideBody(WireModel):
    reason: str = Field(min_length=1, max_length=moderation.MAX_REASON, pattern=HAS_TEXT)


def mapped(found: Slice[R], out: Callable[[R], W]) -> Slice[W]:
    """A page of rows as a page of wire items (the cursor unchanged)."""
    return Slice([out(row) for row in found.items], found.next_cursor)


def acting_as(
    hide: Callable[[User, uuid.UUID, str], Awaitable[R]],
    unhide: Callable[[User, uuid.UUID], Awaitable[R]],
    out: Callable[[R], W],
) -> Moderate:
    """The moderation of a kind whose hiding needs only the admin, the id and the reason
    (nothing of the request), answered through ``out``."""

    async def moderate(request: web.Request, caller: User, target: uuid.UUID, reason: str | None) -> W:
        return out(await (unhide(caller, target) if reason is None else hide(caller, target, reason)))

    return moderate


class AdminRoutes(web.RouteTableDef):
    """An admin topic's route table (each route described with :data:`admin_endpoint`),
    with the routes several topics declare alike."""

    def listing(
        self, path: str, filters: type[Q], item: type[W], *, summary: str, errors: tuple[int, ...] = (400,)
    ) -> Callable[[Fetch[Q, W]], Handler]:
        """``GET path``: the ``{items, nextCursor}`` of ``item`` the decorated function fetches
        for the query ``filters`` validates (400 when it breaks their rules)."""
        # a pydantic generic parametrised at run time: mypy cannot check a variable as a type argument
        wire: type[Paginated[W]] = Paginated[item]  # type: ignore[valid-type]

        def attach(fetch: Fetch[Q, W]) -> Handler:
            @self.get(path)
            @admin_endpoint(summary=summary, query=filters, response=wire, errors=errors)
            async def listed(request: web.Request, query: Q) -> web.Response:
                found = await fetch(request, query)
                return respond(wire(items=found.items, next_cursor=found.next_cursor))

            return listed

        return attach

    def moderated(self, base: str, item: type[BaseModel], moderate: Moderate, summaries: tuple[str, str]) -> None:
        """``POST base/{id}/hide`` (a reason required: 400 without) and ``POST base/{id}/unhide``,
        each answering ``item`` (404 for an unknown id); ``summaries`` are theirs, in that
        order. The domain audits each change; ``moderate`` says what else it touches."""
        hide, unhide = summaries

        @self.post(f"{base}/{{id}}/hide")
        @admin_endpoint(summary=hide, body=HideBody, response=item, errors=(400, 404))
        async def hide_one(request: web.Request, caller: User, path_id: uuid.UUID, body: HideBody) -> web.Response:
            return respond(await moderate(request, caller, path_id, body.reason))

        @self.post(f"{base}/{{id}}/unhide")
        @admin_endpoint(summary=unhide, response=item, errors=(404,))
        async def unhide_one(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
            return respond(await moderate(request, caller, path_id, None))
