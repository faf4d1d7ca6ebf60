"""mDNS advertisement, checked with a real zeroconf browser on loopback only.

On this kernel Linux delivers multicast on ``lo`` to sockets bound to
127.0.0.1 even without the MULTICAST flag; where it does not, the test skips
and says how to enable it (``ip link set lo multicast on``, as root).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import secrets
import socket

import pytest
from zeroconf import IPVersion, ServiceInfo
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from simulator import Simulator, mdns
from simulator.mdns import SERVICE_TYPE, MdnsAdvertiser

from .conftest import Clock, SimFactory

# Device IDs of their own, so a simulator that scripts/develop (or a parallel
# test run) advertises cannot collide with these.
DEVICE_ID = secrets.token_hex(6).upper()
MAC = ":".join(DEVICE_ID[i : i + 2] for i in range(0, 12, 2))
INSTANCE = f"WWP-{DEVICE_ID}.{SERVICE_TYPE}"
OTHER_ID = secrets.token_hex(6).upper()
OTHER_INSTANCE = f"WWP-{OTHER_ID}.{SERVICE_TYPE}"
LOOPBACK = "127.0.0.1"
ENABLE_LOOPBACK_MULTICAST = "ip link set lo multicast on"
"""What CI runs (as root) if the loopback interface refuses multicast."""


async def _lookup(
    zeroconf: AsyncZeroconf, instance: str = INSTANCE, timeout_ms: float = 3000
) -> AsyncServiceInfo | None:
    info = AsyncServiceInfo(SERVICE_TYPE, instance)
    if await info.async_request(zeroconf.zeroconf, timeout_ms):
        return info
    return None


async def _lookup_until(
    zeroconf: AsyncZeroconf, instance: str, wanted: Callable[[AsyncServiceInfo], bool]
) -> AsyncServiceInfo | None:
    """Ask a few times (each ask waits for answers) until ``wanted`` holds."""
    info = None
    for _ in range(5):
        info = await _lookup(zeroconf, instance, 1000)
        if info is not None and wanted(info):
            return info
    return info


@pytest.fixture
async def browser() -> AsyncIterator[AsyncZeroconf]:
    """A zeroconf browser on 127.0.0.1 only: the tests never multicast on a LAN."""
    try:
        zeroconf = AsyncZeroconf(interfaces=[LOOPBACK], ip_version=IPVersion.V4Only)
    except OSError as err:
        pytest.skip(
            f"loopback multicast unavailable ({err}); enable it with "
            f"`{ENABLE_LOOPBACK_MULTICAST}` as root"
        )
    try:
        yield zeroconf
    finally:
        await zeroconf.async_close()


async def _advertised(browser: AsyncZeroconf, make_sim: SimFactory) -> Simulator:
    sim = await make_sim(
        device_id=DEVICE_ID, mdns=True, ota_download_seconds=1, reboot_seconds=1
    )
    assert sim.ip_address == LOOPBACK
    if await _lookup(browser) is None:
        pytest.skip(
            "multicast DNS answers do not arrive on loopback here; enable "
            f"loopback multicast with `{ENABLE_LOOPBACK_MULTICAST}` as root"
        )
    return sim


async def test_mdns_advertisement_on_loopback_only(
    make_sim: SimFactory, clock: Clock, browser: AsyncZeroconf
) -> None:
    """The service is advertised on 127.0.0.1; after an OTA with the new version."""
    sim = await _advertised(browser, make_sim)
    info = await _lookup(browser)
    assert info is not None
    assert info.port == sim.port
    assert info.server == f"wattwaechter-{DEVICE_ID.lower()}.local."
    assert [socket.inet_ntoa(a) for a in info.addresses] == [LOOPBACK]
    assert info.decoded_properties == {
        "id": f"WWP-{DEVICE_ID}",
        "model": "WW-Plus",
        "ver": "1.2.3",
        "mac": MAC,
    }
    sim.device.start_ota()
    clock.advance(5)
    await sim.sync_mdns()
    info = await _lookup_until(
        browser, INSTANCE, lambda i: i.decoded_properties["ver"] == "1.3.0"
    )
    assert info is not None
    assert info.decoded_properties["ver"] == "1.3.0"


async def test_mdns_other_device_and_goodbye(
    make_sim: SimFactory, browser: AsyncZeroconf
) -> None:
    """Another device at the address advertises itself; stopping says goodbye."""
    sim = await _advertised(browser, make_sim)
    sim.configure(other_device=True, other_device_id=OTHER_ID)
    await sim.sync_mdns()
    other = await _lookup_until(browser, OTHER_INSTANCE, lambda i: True)
    assert other is not None
    assert other.decoded_properties["id"] == f"WWP-{OTHER_ID}"
    await sim.stop()
    assert await _lookup(browser, OTHER_INSTANCE, 300) is None


async def test_advertiser_uses_only_the_advertised_interface(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, object]] = []

    class _Zeroconf:
        def __init__(self, **kwargs: object) -> None:
            made.append(kwargs)

        async def async_register_service(
            self, info: ServiceInfo, allow_name_change: bool = False
        ) -> asyncio.Future[None]:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

    monkeypatch.setattr(mdns, "AsyncZeroconf", _Zeroconf)
    for address in (LOOPBACK, "192.0.2.2"):
        advertiser = MdnsAdvertiser(
            device_id="AABBCCDDEEFF",
            model="WW-Plus",
            mac="AA:BB:CC:DD:EE:FF",
            port=80,
            address=address,
        )
        await advertiser.start("1.2.3")
    assert [kwargs["interfaces"] for kwargs in made] == [[LOOPBACK], ["192.0.2.2"]]


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
