"""mDNS advertisement of the simulated device (python-zeroconf)."""

from __future__ import annotations

import ipaddress
import socket

from zeroconf import (  # type: ignore[attr-defined]  # not in zeroconf.__all__
    IPVersion,
    ServiceInfo,
    get_all_addresses,
)
from zeroconf.asyncio import AsyncZeroconf

SERVICE_TYPE = "_wattwaechter._tcp.local."


def first_lan_ipv4() -> str:
    """Return the first non-loopback IPv4 address of this host (or 127.0.0.1)."""
    for address in get_all_addresses():
        if not ipaddress.IPv4Address(address).is_loopback:
            return address
    return "127.0.0.1"


def instance_name(device_id: str) -> str:
    """Return the instance name, e.g. ``WWP-AABBCCDDEEFF._wattwaechter._tcp.local.``."""
    return f"WWP-{device_id}.{SERVICE_TYPE}"


def server_name(device_id: str) -> str:
    """Return the host name, e.g. ``wattwaechter-aabbccddeeff.local.``."""
    return f"wattwaechter-{device_id.lower()}.local."


class MdnsAdvertiser:
    """Registers, updates and unregisters the ``_wattwaechter._tcp`` service."""

    def __init__(
        self, *, device_id: str, model: str, mac: str, port: int, address: str
    ) -> None:
        """Describe the service; nothing is sent before ``start()``."""
        self.device_id = device_id
        self._model = model
        self._mac = mac
        self._port = port
        self._address = address
        self._zeroconf: AsyncZeroconf | None = None
        self._info: ServiceInfo | None = None
        self.version: str | None = None
        """Firmware version currently advertised in TXT ``ver``."""

    def _service_info(self, version: str, name: str | None = None) -> ServiceInfo:
        """Return the ServiceInfo carrying ``version`` (under ``name`` if given)."""
        return ServiceInfo(
            SERVICE_TYPE,
            name or instance_name(self.device_id),
            addresses=[socket.inet_aton(self._address)],
            port=self._port,
            properties={
                "id": f"WWP-{self.device_id}",
                "model": self._model,
                "ver": version,
                "mac": self._mac,
            },
            server=server_name(self.device_id),
        )

    async def start(self, version: str) -> None:
        """Start zeroconf and register the service with firmware ``version``.

        Multicast goes out on the interface of the advertised address only
        (127.0.0.1 = loopback unless ``--lan`` or ``--advertise-ip`` say else).
        """
        self._zeroconf = AsyncZeroconf(
            interfaces=[self._address], ip_version=IPVersion.V4Only
        )
        self._info = self._service_info(version)
        # A name still cached from a previous run (or another simulator) must
        # not stop this one; the TXT id, which identifies the device, stays.
        await (
            await self._zeroconf.async_register_service(
                self._info, allow_name_change=True
            )
        )
        self.version = version

    async def update(self, version: str) -> None:
        """Advertise a new firmware version (after an OTA)."""
        if self._zeroconf is None or self._info is None or version == self.version:
            return
        # Keep the registered name: registration may have renamed it ("-2").
        self._info = self._service_info(version, self._info.name)
        await (await self._zeroconf.async_update_service(self._info))
        self.version = version

    async def stop(self) -> None:
        """Unregister the service and close zeroconf."""
        if self._zeroconf is None:
            return
        zeroconf, self._zeroconf = self._zeroconf, None
        try:
            if self._info is not None:
                await (await zeroconf.async_unregister_service(self._info))
        finally:
            await zeroconf.async_close()
