"""The vendor's client (aio-wattwaechter 1.3.0) reads the simulator over real HTTP.

Every read method must parse the simulator's answers, and what it parses
must equal the simulator's own model. The client sleeps and retries on
429/503; its sleep is replaced by a failure so no test ever waits, and the
virtual clock moves one second per call to stay inside the rate limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
import math
from types import SimpleNamespace
from typing import Any

import aio_wattwaechter
from aio_wattwaechter import (
    LedStatus,
    Medium,
    Wattwaechter,
    WattwaechterAuthenticationError,
    client as vendor_client,
)
import aiohttp
import pytest

from simulator import Simulator
from simulator.meter import EPOCH0, SLOT_SECONDS, to_kilo

from .conftest import READ, WRITE, Clock, SimFactory

VOLUME = {"gas": "7-0:3.0.0", "water": "8-0:1.0.0"}
CASES = [
    (profile, firmware)
    for profile in ("default", "gas", "water")
    for firmware in ("1.2.3", "1.3.1")
]


@pytest.fixture(autouse=True)
def _no_client_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail instead of sleeping when the client meets a 429 or 503."""

    async def sleep(delay: float) -> None:
        raise AssertionError(f"the client would sleep {delay} s after a 429/503")

    real = vendor_client.asyncio
    stand_in = SimpleNamespace(timeout=real.timeout, sleep=sleep)
    monkeypatch.setattr(vendor_client, "asyncio", stand_in)


ClientFactory = Callable[[Simulator, str | None], Wattwaechter]


@pytest.fixture
async def client_for(session: aiohttp.ClientSession) -> ClientFactory:
    """Return vendor clients for a simulator (host = 127.0.0.1:port)."""

    def make(sim: Simulator, token: str | None = None) -> Wattwaechter:
        return Wattwaechter(f"127.0.0.1:{sim.port}", token=token, session=session)

    return make


async def _call(clock: Clock, call: Awaitable[Any]) -> Any:
    """Await one client call, then move the clock one second on."""
    result = await call
    clock.advance(1)
    return result


@pytest.mark.parametrize(("profile", "firmware"), CASES)
async def test_every_read_method_parses_and_matches(
    make_sim: SimFactory,
    client_for: ClientFactory,
    clock: Clock,
    profile: str,
    firmware: str,
) -> None:
    offered = "1.3.0" if firmware == "1.2.3" else firmware  # 1.3.1: no update
    sim = await make_sim(profile=profile, firmware=firmware, ota_version=offered)
    client = client_for(sim, None)
    medium = sim.config.medium
    new = firmware >= "1.3"

    alive = await _call(clock, client.alive())
    assert (alive.alive, alive.version) == (True, firmware)

    info = await _call(clock, client.system_info())
    assert info.device_id == "AABBCCDDEEFF"
    assert info.firmware_version == firmware
    assert info.model_id == sim.config.effective_model_id
    assert info.product_name == sim.config.effective_product_name
    assert info.is_gas_water is (medium != "electricity")
    assert info.get_value("wifi", "mac_address") == "AA:BB:CC:DD:EE:FF"

    led = await _call(clock, client.led())
    assert (led.status, led.priority, led.enabled) == (LedStatus.OK, 1, True)
    assert led.active_statuses == (
        ["OK"] if new else sim.device.led()["active_statuses"]
    )

    now = clock.now
    meter = await _call(clock, client.meter_data())
    assert meter is not None
    assert meter.timestamp == math.floor(now)
    imp, exp = sim.meter.reading(now)
    assert meter.medium is Medium(medium)
    if medium == "electricity":
        assert meter.total_consumption == to_kilo(imp)
        assert meter.total_feed_in == to_kilo(exp)
        assert meter.power == pytest.approx(sim.meter.net_power(now), rel=0.031)
        assert meter.gw is None
    else:
        assert meter.volume_obis == VOLUME[medium]
        assert meter.volume == to_kilo(imp)
        assert meter.flow is not None
        assert meter.gw is not None
        assert meter.gw.medium is Medium(medium)
        assert meter.gw.ok is True
        since = datetime.fromtimestamp(EPOCH0, UTC) if new else None
        assert meter.gw.meter_since == since

    yesterday = date(2026, 3, 9)
    high = await _call(clock, client.history_high_res(yesterday.isoformat()))
    assert high.start == "2026-03-09"
    assert high.is_volume is (medium != "electricity")
    assert len(high.items) == 96
    first = high.items[0]
    slot = first.timestamp // SLOT_SECONDS
    assert first.import_total == to_kilo(sim.meter.reading_at_slot(slot)[0])
    day_use = sum(sim.meter.slot_energy(slot + k)[0] for k in range(96))
    assert high.consumption == to_kilo(day_use)

    low = await _call(clock, client.history_low_res(yesterday.isoformat(), 2))
    assert [item.date for item in low.items] == ["2026-03-09", "2026-03-10"]
    assert low.items[0].import_total == first.import_total
    assert low.items[0].consumption == high.consumption
    assert low.is_volume is high.is_volume

    settings = await _call(clock, client.settings())
    state = sim.state.settings
    assert settings.timezone == state["timezone"] == "Europe/Berlin"
    assert settings.device_name == state["device_name"]
    assert settings.api_auth_required is state["api_auth_required"] is False
    assert settings.led_enable is True
    assert settings.mqtt.port == state["mqtt"]["port"]

    ota = await _call(clock, client.ota_check())
    assert ota.ok is True
    assert ota.data.update_available is sim.device.update_available()
    assert ota.data.version == ("1.3.0" if firmware == "1.2.3" else "")

    mqtt = await _call(clock, client.mqtt_status())
    assert (mqtt.enabled, mqtt.state.value, mqtt.connected) == (False, "OFF", False)

    modbus = await _call(clock, client.modbus_status())
    assert (modbus.enabled, modbus.port) == (False, 502)
    assert len(modbus.registers) == (13 if medium == "electricity" else 0)

    zones = await _call(clock, client.timezones())
    assert ("Europe/Berlin", 60) in [(z.name, z.utc_offset_min) for z in zones]

    scan = await _call(clock, client.wifi_scan())
    assert scan.count == len(scan.networks) > 0
    ca = await _call(clock, client.mqtt_ca_status())
    assert ca.has_custom_cert is False
    assert "Boot" in await _call(clock, client.logs_ram())
    assert all(entry.status == 200 for entry in sim.request_log)


async def test_history_without_data_is_empty_for_the_client(
    make_sim: SimFactory, client_for: ClientFactory, clock: Clock
) -> None:
    sim = await make_sim(firmware="1.3.1", history_gaps=("2026-03-05",))
    client = client_for(sim, None)
    high = await _call(clock, client.history_high_res("2026-03-05"))
    assert (high.items, high.consumption) == ([], 0.0)
    low = await _call(clock, client.history_low_res("2026-03-05", 1))
    assert low.items == []
    future = (date(2026, 3, 10) + timedelta(days=2)).isoformat()
    assert (await _call(clock, client.history_high_res(future))).items == []
    with pytest.raises(aio_wattwaechter.WattwaechterBadRequestError):
        await client.history_high_res("2026-3-5")


async def test_meter_attention_and_meter_since_parse(
    make_sim: SimFactory, client_for: ClientFactory, clock: Clock
) -> None:
    sim = await make_sim(profile="gas", firmware="1.3.1", meter_attention=True)
    client = client_for(sim, None)
    led = await _call(clock, client.led())
    assert led.status is LedStatus.METER_ATTENTION
    sim.exchange_meter(start_value=0.5)
    exchanged = datetime.fromtimestamp(math.floor(clock.now), UTC)
    meter = await _call(clock, client.meter_data())
    assert meter is not None
    assert meter.gw is not None
    assert meter.gw.meter_since == exchanged
    assert meter.volume == 0.5


async def test_read_and_write_tokens_as_the_client_expects(
    make_sim: SimFactory, client_for: ClientFactory, clock: Clock
) -> None:
    sim = await make_sim(auth_required=True)
    anonymous = client_for(sim, None)
    reader = client_for(sim, READ)
    writer = client_for(sim, WRITE)
    assert (await _call(clock, anonymous.alive())).alive is True
    with pytest.raises(WattwaechterAuthenticationError):
        await _call(clock, anonymous.system_info())
    with pytest.raises(WattwaechterAuthenticationError):
        await _call(clock, client_for(sim, "WRONGTOKEN000000").meter_data())
    assert (await _call(clock, reader.system_info())).device_id == "AABBCCDDEEFF"
    assert (await _call(clock, reader.settings())).api_auth_required is True
    with pytest.raises(WattwaechterAuthenticationError, match="insufficient"):
        await _call(clock, reader.reboot())
    with pytest.raises(WattwaechterAuthenticationError, match="insufficient"):
        await _call(clock, reader.update_settings({"ledEnable": False}))
    assert sim.state.settings["ledEnable"] is True
    applied = await _call(clock, writer.update_settings({"ledEnable": False}))
    assert applied == {"ledEnable": False}
    assert (await _call(clock, writer.led())).enabled is False
    statuses = [entry.status for entry in sim.request_log]
    assert statuses == [200, 401, 401, 200, 200, 403, 403, 200, 200]
