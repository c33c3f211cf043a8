"""The socket managers with each socket's rooms indexed (``server/chat/managers.py``) keep
python-socketio's room table exactly as its own manager does, and a disconnect leaves only
the socket's own rooms."""

from __future__ import annotations

from typing import Any

import socketio

from mochung.server.chat.managers import IndexedManager

NAMESPACE = "/chat"


def _story(manager: Any) -> tuple[dict[Any, dict[str, str]], list[list[Any]]]:
    """The same enters, leaves, close and disconnects on ``manager``: its room table, and
    what ``get_rooms`` said on the way."""
    manager.set_server(socketio.AsyncServer(async_mode="aiohttp"))
    manager.initialize()
    for index in range(4):
        manager.basic_enter_room(f"s{index}", NAMESPACE, None, eio_sid=f"e{index}")
        manager.basic_enter_room(f"s{index}", NAMESPACE, f"s{index}", eio_sid=f"e{index}")
        manager.basic_enter_room(f"s{index}", NAMESPACE, "user:one" if index < 2 else "user:two")
        manager.basic_enter_room(f"s{index}", NAMESPACE, f"chat:{index % 3}")
    said = [sorted(map(str, manager.get_rooms("s0", NAMESPACE)))]
    manager.basic_leave_room("s1", NAMESPACE, "chat:1")
    manager.basic_close_room("chat:2", NAMESPACE)
    said.append(sorted(map(str, manager.get_rooms("s2", NAMESPACE))))
    manager.basic_disconnect("s0", NAMESPACE)
    manager.basic_disconnect("s2", NAMESPACE)
    said.append(sorted(map(str, manager.get_rooms("s0", NAMESPACE))))
    return {room: dict(members) for room, members in manager.rooms[NAMESPACE].items()}, said


def test_the_room_table_is_python_socketios() -> None:
    indexed, said = _story(IndexedManager())
    plain, plain_said = _story(socketio.AsyncManager())
    assert indexed == plain
    assert said == plain_said
    assert said[1] == ["s2", "user:two"]  # chat:2 closed
    assert said[2] == []  # disconnected: in no room
    assert set(indexed) == {None, "s1", "s3", "user:one", "user:two", "chat:0"}
