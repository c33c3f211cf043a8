"""The embedded bus (``MemoryHub``): a worker thread's loop publishes, the web loop receives
— every message, in order, on the subscriber's own loop, whatever else fails."""

from __future__ import annotations

import asyncio
import threading

from mochung.adapters.bus import MemoryHub


def _publish_from_another_loop(hub: MemoryHub, messages: list[tuple[str, dict[str, int]]]) -> None:
    """As the embedded worker does: its own thread and event loop."""

    async def publish_all() -> None:
        for channel, message in messages:
            await hub.publish(channel, message)

    thread = threading.Thread(target=asyncio.run, args=(publish_all(),))
    thread.start()
    thread.join()


async def test_messages_from_another_thread_arrive_in_order_on_the_subscribers_loop() -> None:
    hub, loop = MemoryHub(), asyncio.get_running_loop()
    received: list[tuple[str, int, bool]] = []
    done = asyncio.Event()

    def receive(channel: str, message: dict[str, int]) -> None:
        received.append((channel, message["seq"], asyncio.get_running_loop() is loop))
        if len(received) == 1000:
            done.set()

    hub.add("chat:a", loop, receive)
    hub.add("chat:b", loop, receive)
    sent = [(f"chat:{'ab'[seq % 2]}", {"seq": seq}) for seq in range(1000)]
    await asyncio.to_thread(_publish_from_another_loop, hub, sent)
    await asyncio.wait_for(done.wait(), 5)
    assert received == [(channel, message["seq"], True) for channel, message in sent]


async def test_a_failing_receiver_does_not_cost_the_others_their_messages() -> None:
    hub, loop = MemoryHub(), asyncio.get_running_loop()
    failures: list[BaseException] = []
    loop.set_exception_handler(lambda _, context: failures.append(context["exception"]))
    good: list[int] = []

    def broken(channel: str, message: dict[str, int]) -> None:
        raise ValueError("a broken socket")

    hub.add("chat:a", loop, broken)
    hub.add("chat:a", loop, lambda channel, message: good.append(message["seq"]))
    await asyncio.to_thread(_publish_from_another_loop, hub, [("chat:a", {"seq": seq}) for seq in range(5)])
    for _ in range(100):
        if len(good) == 5:
            break
        await asyncio.sleep(0.01)
    assert good == [0, 1, 2, 3, 4]
    assert len(failures) == 5 and all(isinstance(error, ValueError) for error in failures)
    loop.set_exception_handler(None)


async def test_a_closed_subscriber_loop_is_skipped_and_a_new_one_served() -> None:
    hub = MemoryHub()
    stopped = asyncio.new_event_loop()
    stopped.close()  # a web app that has shut down (tests build many in one process)
    hub.add("chat:a", stopped, lambda channel, message: None)
    loop, seen = asyncio.get_running_loop(), asyncio.Event()
    hub.add("chat:a", loop, lambda channel, message: seen.set())
    await hub.publish("chat:a", {"seq": 1})
    await asyncio.wait_for(seen.wait(), 5)
