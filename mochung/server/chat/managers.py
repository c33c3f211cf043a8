"""python-socketio's client managers, with each socket's rooms indexed.

python-socketio finds a socket's rooms by scanning every room of the namespace (its
``basic_disconnect`` and ``get_rooms``), and every socket has a room of its own: one
disconnect costs O(sockets), so closing N sockets costs O(N²). At SIGTERM, 2,000 sockets
each in a chat room kept the web process busy for 6 s before it could stop (issue 12: stop
within 5 s with thousands of sockets open). Here each socket's rooms are kept beside the
manager's own table, so a disconnect costs only that socket's rooms.
"""

from __future__ import annotations

from typing import Any

import socketio


class _RoomsBySocket:
    """Keeps ``(namespace, sid) → rooms`` in step with the manager's ``rooms`` table (every
    change to it goes through ``basic_enter_room``, ``basic_leave_room`` and
    ``basic_close_room``)."""

    rooms: Any
    callbacks: Any
    pending_connect: Any
    pending_disconnect: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        self._forget(namespace, sid, room)

    def basic_close_room(self, room: Any, namespace: str) -> None:
        members = list(self.rooms.get(namespace, {}).get(room, ()))
        super().basic_close_room(room, namespace)  # type: ignore[misc]
        for sid in members:
            self._forget(namespace, sid, room)

    def _forget(self, namespace: str, sid: str, room: Any) -> None:
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid: str, namespace: str, **_: Any) -> None:
        """As python-socketio's, leaving only the rooms this socket is in."""
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]


class IndexedManager(_RoomsBySocket, socketio.AsyncManager):  # type: ignore[misc]  # socketio has no type hints
    """Embedded mode's manager (python-socketio's default, one process)."""


class IndexedRedisManager(_RoomsBySocket, socketio.AsyncRedisManager):  # type: ignore[misc]  # socketio has no type hints
    """Distributed mode's manager (emits to other web processes over Redis)."""
