"""mDNS advertisement, checked with a real zeroconf browser when possible."""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct

import pytest
from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from simulator.mdns import SERVICE_TYPE, MdnsAdvertiser

from .conftest import Clock, SimFactory

# A device ID of its own, so a simulator that scripts/develop (or a parallel
# test run) advertises on the same network cannot collide with this one.
DEVICE_ID = secrets.token_hex(6).upper()
MAC = ":".join(DEVICE_ID[i : i + 2] for i in range(0, 12, 2))
INSTANCE = f"WWP-{DEVICE_ID}.{SERVICE_TYPE}"


SIOCGIFADDR = 0x8915


def _lan_ipv4() -> str | None:
    """Return the IPv4 of the first non-loopback interface (Linux only).

    Asked from the kernel because Home Assistant's test plugin mocks
    ``ifaddr`` (which zeroconf uses) with a made-up 10.10.10.10 adapter.
    """
    try:
        import fcntl  # noqa: PLC0415  # POSIX only

        names = [name for _, name in socket.if_nameindex() if name != "lo"]
    except (ImportError, OSError):
        return None
    for name in names:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                packed = fcntl.ioctl(
                    sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15])
                )
            except OSError:
                continue
        return socket.inet_ntoa(packed[20:24])
    return None


async def _lookup(
    zeroconf: AsyncZeroconf, timeout_ms: float = 3000
) -> AsyncServiceInfo | None:
    info = AsyncServiceInfo(SERVICE_TYPE, INSTANCE)
    if await info.async_request(zeroconf.zeroconf, timeout_ms):
        return info
    return None


async def test_mdns_advertisement(make_sim: SimFactory, clock: Clock) -> None:
    address = _lan_ipv4()
    if address is None:
        pytest.skip("no non-loopback IPv4 interface for multicast DNS")
    try:
        browser = AsyncZeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
    except OSError as err:
        pytest.skip(f"multicast sockets unavailable here: {err}")
    try:
        sim = await make_sim(
            device_id=DEVICE_ID,
            mdns=True,
            advertise_ip=address,
            ota_download_seconds=1,
            reboot_seconds=1,
        )
        info = await _lookup(browser)
        if info is None:
            pytest.skip("multicast DNS answers do not arrive on this machine")
        assert info.port == sim.port
        assert info.server == f"wattwaechter-{DEVICE_ID.lower()}.local."
        assert socket.inet_ntoa(info.addresses[0]) == address
        assert info.decoded_properties == {
            "id": f"WWP-{DEVICE_ID}",
            "model": "WW-Plus",
            "ver": "1.2.3",
            "mac": MAC,
        }
        # After an OTA the TXT record carries the new version.
        sim.device.start_ota()
        clock.advance(5)
        await sim.sync_mdns()
        await asyncio.sleep(0.5)
        info = await _lookup(browser)
        assert info is not None
        assert info.decoded_properties["ver"] == "1.3.0"
        # Stopping unregisters the service (goodbye packets).
        await sim.stop()
        await asyncio.sleep(0.5)
        assert await _lookup(browser, 700) is None
    finally:
        await browser.async_close()


class _RecordingZeroconf:
    """Stands in for AsyncZeroconf and records the updated service."""

    def __init__(self) -> None:
        self.updated: list[ServiceInfo] = []

    async def async_update_service(self, info: ServiceInfo) -> asyncio.Future[None]:
        self.updated.append(info)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def test_update_keeps_a_renamed_instance_name() -> None:
    advertiser = MdnsAdvertiser(
        device_id="AABBCCDDEEFF",
        model="WW-Plus",
        mac="AA:BB:CC:DD:EE:FF",
        port=80,
        address="192.0.2.2",
    )
    renamed = f"WWP-AABBCCDDEEFF-2.{SERVICE_TYPE}"
    zeroconf = _RecordingZeroconf()
    advertiser._zeroconf = zeroconf  # type: ignore[assignment]
    advertiser._info = advertiser._service_info("1.2.3", renamed)
    advertiser.version = "1.2.3"
    await advertiser.update("1.3.0")
    assert [info.name for info in zeroconf.updated] == [renamed]
    assert zeroconf.updated[0].decoded_properties["ver"] == "1.3.0"
    await advertiser.update("1.3.0")  # unchanged: nothing sent
    assert len(zeroconf.updated) == 1
