"""Building answers the same way on every route: a wire model filled from a stored row, and
a file the browser downloads (a CSV or JSON export, an iCalendar file)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel

from mochung.domain.ports import FileStorage
from mochung.server import keys

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def filled(model: type[M], source: object, **computed: object) -> M:
    """``model`` with each field read from ``source``'s attribute of the same name, but for
    those ``computed`` gives (a related row's, a str of an id, a value of the row's own).

    One rule for every answer built from a row: a field added to the wire model and to the
    row needs no line here, and a field the row lacks fails loudly rather than answering null."""
    values = {name: getattr(source, name) for name in model.model_fields if name not in computed}
    return model.model_validate({**values, **computed})


async def with_storage(
    request: web.Request, rows: Iterable[R], out: Callable[[R, FileStorage], Awaitable[M]]
) -> list[M]:
    """Each row as its wire model, which names its stored files by their URLs in the app's storage."""
    storage = request.app[keys.STORAGE]
    return [await out(row, storage) for row in rows]


def download(body: bytes, content_type: str, filename: str, *, cache: str | None = "no-store") -> web.Response:
    """``body`` as a file the browser saves as ``filename``. An export is fresh on every
    request (``no-store``); a file that does not change says how long it may be kept, or
    (None) leaves it to the client."""
    headers = {"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'}
    if cache is not None:
        headers["Cache-Control"] = cache
    return web.Response(body=body, headers=headers)
