"""The ``Simulator``: one simulated WattWächter Plus served over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import contextlib
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .app import build_app
from .config import SimulatorConfig, coerce_json_changes
from .device import Device, DeviceState
from .faults import FaultMode, FaultSet
from .mdns import MdnsAdvertiser, first_lan_ipv4
from .meter import MeterModel
from .requestlog import RequestLogEntry
from .summary import summary

MDNS_POLL_SECONDS = 1.0
"""How often (real time) the mDNS TXT ``ver`` is compared with the firmware."""
_ANY_HOSTS = frozenset({"", "0.0.0.0", "::"})


class Simulator:
    """A simulated device with a control API; see the package docstring."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        """Create the simulator (nothing listens before ``start()``)."""
        self.device = Device(config or SimulatorConfig())
        self.faults = FaultSet()
        self._log: list[RequestLogEntry] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._host = ""
        self._port = 0
        self._lan_ip: str | None = None
        self._mdns: MdnsAdvertiser | None = None
        self._mdns_task: asyncio.Task[None] | None = None

    # --- properties ---------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        """Return the current configuration."""
        return self.device.config

    @property
    def state(self) -> DeviceState:
        """Return the device state, with time-driven transitions applied."""
        self.device.advance()
        return self.device.state

    @property
    def meter(self) -> MeterModel:
        """Return the energy model (to compute expected readings in tests)."""
        return self.device.model

    @property
    def host(self) -> str:
        """Return the host the HTTP server is bound to."""
        return self._host

    @property
    def port(self) -> int:
        """Return the TCP port of the HTTP server (0 before ``start()``)."""
        return self._port

    @property
    def url(self) -> str:
        """Return ``http://host:port`` (without ``/api/v1``)."""
        return f"http://{self._host}:{self._port}"

    @property
    def ip_address(self) -> str:
        """Return the address the device reports and advertises."""
        if self.config.advertise_ip:
            return self.config.advertise_ip
        if self._host not in _ANY_HOSTS and self._host != "localhost":
            return self._host
        if self._lan_ip is None:
            self._lan_ip = first_lan_ipv4()
        return self._lan_ip

    @property
    def request_log(self) -> list[RequestLogEntry]:
        """Return a copy of the request log (oldest first)."""
        return list(self._log)

    @property
    def running(self) -> bool:
        """Return True while the HTTP server is running."""
        return self._runner is not None

    def now(self) -> float:
        """Return the simulator clock."""
        return self.device.now()

    # --- life cycle ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving on ``host``:``port`` (0 picks a free port).

        The device boots now: uptime starts and the first-reading window
        (``first_reading_delay``) begins.
        """
        if self._runner is not None:
            msg = "simulator already started"
            raise RuntimeError(msg)
        self.device.state.boot_time = self.device.now()
        runner = web.AppRunner(build_app(self), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = host
        self._port = _bound_port(runner, port)
        if self.config.mdns:
            try:
                await self._start_mdns()
            except BaseException:
                await self.stop()
                raise

    async def _start_mdns(self) -> None:
        """Register the service and watch the firmware version."""
        await self._advertise()
        self._mdns_task = asyncio.create_task(self._watch_version())

    async def _advertise(self) -> None:
        """Register the service of the device answering now."""
        config = self.config
        self._mdns = MdnsAdvertiser(
            device_id=config.identity,
            model=config.model,
            mac=config.mac,
            port=self._port,
            address=self.ip_address,
        )
        await self._mdns.start(self.device.state.firmware)

    async def _watch_version(self) -> None:
        """Update TXT ``ver`` once an OTA has installed a new version."""
        while self._mdns is not None:
            await asyncio.sleep(MDNS_POLL_SECONDS)
            await self.sync_mdns()

    async def sync_mdns(self) -> None:
        """Advertise the current firmware version (and device) over mDNS now."""
        if self._mdns is None:
            return
        if self._mdns.device_id != self.config.identity:
            old, self._mdns = self._mdns, None
            await old.stop()
            await self._advertise()
            return
        await self._mdns.update(self.state.firmware)

    async def stop(self) -> None:
        """Stop serving, release hanging requests and unregister mDNS."""
        self._release_hangs()
        if self._mdns_task is not None:
            self._mdns_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._mdns_task
            self._mdns_task = None
        if self._mdns is not None:
            mdns, self._mdns = self._mdns, None
            await mdns.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start on 127.0.0.1 with a free port."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the simulator."""
        await self.stop()

    # --- faults, log and config -----------------------------------------------

    def set_fault(
        self,
        mode: FaultMode | str,
        paths: Iterable[str] | None = None,
        count: int | None = None,
    ) -> None:
        """Activate fault ``mode`` for ``paths`` (None = every API path).

        With ``count`` only the next ``count`` matching requests are hit.
        ``frozen_reading`` freezes the reading of this moment.
        """
        self.faults.set(mode, paths, count)
        state = self.device.state
        if FaultMode(mode) is FaultMode.FROZEN_READING and state.frozen_at is None:
            state.frozen_at = self.now()

    def clear_fault(self, mode: FaultMode | str) -> None:
        """Deactivate fault ``mode``; hanging requests end at once."""
        self.faults.clear(mode)
        if FaultMode(mode) is FaultMode.TIMEOUT:
            self._release_hangs()
        if FaultMode(mode) is FaultMode.FROZEN_READING:
            self.device.state.frozen_at = None

    def clear_faults(self) -> None:
        """Deactivate every fault; hanging requests end at once."""
        self.faults.clear_all()
        self.device.state.frozen_at = None
        self._release_hangs()

    # --- the meter --------------------------------------------------------------

    def exchange_meter(
        self,
        start_value: float = 0.0,
        *,
        start_export: float = 0.0,
        at: float | None = None,
    ) -> None:
        """Fit a new meter at ``at`` (default now) showing ``start_value``.

        Values are kWh (m³ on gas/water). ``gw.meterSince`` becomes ``at``;
        live counters and history readings count on from ``start_value``.
        """
        when = self.now() if at is None else at
        self.device.set_registers(when, start_value, start_export, exchange=True)

    def correct_meter(self, value: float, *, at: float | None = None) -> None:
        """Correct the displayed reading to ``value`` (``meterSince`` is kept)."""
        when = self.now() if at is None else at
        self.device.set_registers(when, value, None, exchange=False)

    def clear_log(self) -> None:
        """Empty the request log."""
        self._log.clear()

    def record(self, entry: RequestLogEntry) -> None:
        """Append one entry to the request log."""
        self._log.append(entry)

    def configure(self, **changes: Any) -> None:
        """Change configuration fields at run time.

        Fields mirrored in the device state follow: ``auth_required``
        (``settings.api_auth_required``), ``read_token``/``write_token``,
        ``device_name``, ``timezone``, ``firmware``, ``medium``/``seed``.
        ``device_id``, ``mdns`` and ``advertise_ip`` take effect at the next
        ``start()``.
        """
        new = self.config.replace(**changes)
        self.device.apply_config(new, changes)

    def configure_from_json(self, changes: Mapping[str, Any]) -> None:
        """Apply control-endpoint changes after checking their JSON types."""
        self.configure(**coerce_json_changes(self.config, changes))

    async def hang(self) -> None:
        """Wait ``timeout_seconds``, or less if the timeout fault is cleared."""
        release = self._release
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), self.config.timeout_seconds)

    def _release_hangs(self) -> None:
        """End every request hanging under the timeout fault."""
        self._release.set()
        self._release = asyncio.Event()

    # --- summary ------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Return the ``GET /_sim/state`` body."""
        return summary(self)

    def mdns_active(self) -> bool:
        """Return True while the service is advertised over mDNS."""
        return self._mdns is not None


def _bound_port(runner: web.AppRunner, requested: int) -> int:
    """Return the port the runner's first socket is bound to."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return requested
