"""Simulators in a thread of their own, the run's figures, and printing them.

The simulators run on a second event loop in their own thread, so the CPU
time of Home Assistant's thread (``time.thread_time``) is what Home Assistant
and the integration spend (and the benchmark's own stepping), without the
simulated devices' share; the recorder's thread is not counted either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
import threading
from typing import Any

from simulator import Simulator, SimulatorConfig
from tests.integration.traffic import Traffic


class SimulatorThread:
    """Simulators served by an event loop in a separate thread."""

    def __init__(self) -> None:
        """Start the thread and its loop."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="bench-simulators", daemon=True
        )
        self._thread.start()
        self.simulators: list[Simulator] = []

    def _run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def start(
        self, count: int, clock: Callable[[], float], **config: Any
    ) -> list[Simulator]:
        """Start ``count`` simulated devices (distinct device IDs) on loopback."""

        async def start_all() -> list[Simulator]:
            started = []
            for index in range(count):
                device_id = "AABBCCDDEEFF" if count == 1 else f"AABBCC{index:06X}"
                sim = Simulator(
                    SimulatorConfig(device_id=device_id, clock=clock, **config)
                )
                await sim.start(host="127.0.0.1", port=0)
                started.append(sim)
            return started

        self.simulators = self._run(start_all())
        return self.simulators

    def stop(self) -> None:
        """Stop the simulators, the loop and the thread."""

        async def stop_all() -> None:
            for sim in self.simulators:
                await sim.stop()

        self._run(stop_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def table(rows: Sequence[tuple[str, object]], indent: str = "  ") -> str:
    """Return ``rows`` as aligned ``label  value`` lines."""
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{indent}{label:<{width}}  {value}" for label, value in rows)


def endpoint_table(traffic: Traffic, hours: float = 1.0) -> str:
    """Return requests per hour by endpoint."""
    return table(
        [
            (name, f"{count / hours:7.1f} /h")
            for name, count in sorted(traffic.by_endpoint.items(), key=lambda i: -i[1])
        ],
        indent="    ",
    )
