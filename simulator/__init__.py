"""Simulator of the WattWächter Plus smart-meter reader's local REST API.

An aiohttp server that behaves like the device (``/api/v1``), with a
deterministic, seeded meter whose live counters agree with its history,
READ/WRITE token auth, the 25-requests-per-10-s rate limit, the heap guard,
the reboot and OTA life cycles, switchable fault modes, a request log, an
optional mDNS advertisement and a control endpoint under ``/_sim/``.

Typical use::

    from simulator import Simulator, SimulatorConfig, FaultMode

    sim = Simulator(SimulatorConfig(auth_required=True))
    await sim.start(host="127.0.0.1", port=0)
    sim.set_fault(FaultMode.HTTP_500, paths=["/api/v1/history/latest"])
    ...
    await sim.stop()
"""

from .config import SimulatorConfig
from .core import Simulator
from .device import DeviceState, PendingTokens
from .faults import FaultMode
from .requestlog import STATUS_DROPPED, STATUS_TIMEOUT, RequestLogEntry

__all__ = [
    "STATUS_DROPPED",
    "STATUS_TIMEOUT",
    "DeviceState",
    "FaultMode",
    "PendingTokens",
    "RequestLogEntry",
    "Simulator",
    "SimulatorConfig",
]
