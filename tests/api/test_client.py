"""The HA-free client against the simulated device on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.wattwaechter.api import (
    Alive,
    Priority,
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterBusyError,
    WattwaechterClient,
    WattwaechterConnectionError,
    WattwaechterForbiddenError,
    WattwaechterInvalidHostError,
    WattwaechterInvalidTokenError,
    WattwaechterNoDataError,
    WattwaechterRateLimitedError,
    WattwaechterRetryLaterError,
    WattwaechterTimeoutError,
    clean_token,
    parse_host,
)
from custom_components.wattwaechter.api.client import _parse_retry_after
from simulator import FaultMode, Simulator, SimulatorConfig

READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Simulate a device with API authentication on."""
    return SimulatorConfig(auth_required=True)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Give each test its own aiohttp session."""
    async with aiohttp.ClientSession() as session:
        yield session


def make_client(
    sim: Simulator, session: aiohttp.ClientSession, **kwargs: Any
) -> WattwaechterClient:
    """Return a client for the simulator."""
    return WattwaechterClient(f"127.0.0.1:{sim.port}", session, **kwargs)


def last_request(sim: Simulator) -> tuple[str, str, int, str]:
    """Return method, path, status and token level of the last request."""
    entry = sim.request_log[-1]
    return entry.method, entry.path, entry.status, entry.token_level


# --- reading -------------------------------------------------------------------


async def test_alive_needs_no_token(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    assert await client.alive() == Alive(alive=True, version="1.2.3")
    assert last_request(simulator) == ("GET", "/api/v1/system/alive", 200, "none")


async def test_system_info(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    info = await client.system_info()
    assert info.esp_id == "AABBCCDDEEFF"
    assert info.firmware == "1.2.3"
    assert info.model_id == "ww_plus"
    assert info.product_name == "WattWächter Plus"
    assert info.mac_address == "AA:BB:CC:DD:EE:FF"
    assert info.mdns_name == "wattwaechter-aabbccddeeff.local"
    assert info.ip_address == "127.0.0.1"
    assert isinstance(info.signal_strength, int)
    assert isinstance(info.free_heap, int)
    assert info.uptime is not None
    assert last_request(simulator) == ("GET", "/api/v1/system/info", 200, "read")


async def test_led_and_led_switch(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    led = await client.led()
    assert (led.status, led.enabled) == ("OK", True)
    assert last_request(simulator) == ("GET", "/api/v1/system/led", 200, "read")

    applied = await client.update_settings({"ledEnable": False})
    assert applied == {"ledEnable": False}
    assert last_request(simulator) == ("POST", "/api/v1/settings", 200, "write")
    assert (await client.led()).enabled is False
    assert (await client.settings()).led_enable is False


async def test_latest(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    reading = await client.latest()
    assert reading.timestamp is not None
    total = reading.values["1.8.0"]
    assert total.unit == "kWh"
    assert total.number is not None
    assert total.number > 0
    assert isinstance(reading.values["16.7.0"].number, float)
    assert last_request(simulator) == ("GET", "/api/v1/history/latest", 200, "read")


async def test_history(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    day = date.today() - timedelta(days=2)
    high = await client.history_high_res(day)
    assert high.start == day
    assert len(high.items) >= 92  # 96 slots a day, 92 or 100 on DST days
    assert all(item.import_total_kwh is not None for item in high.items)
    method, path, status, level = last_request(simulator)
    assert (method, path, status, level) == (
        "GET",
        "/api/v1/history/highRes",
        200,
        "read",
    )
    assert simulator.request_log[-1].query == f"date={day.isoformat()}"

    start = date.today() - timedelta(days=10)
    low = await client.history_low_res(start, 3)
    assert [item.day for item in low.items] == [
        start + timedelta(days=n) for n in range(3)
    ]
    assert all(item.import_kwh is not None for item in low.items)
    assert last_request(simulator) == ("GET", "/api/v1/history/lowRes", 200, "read")


async def test_history_out_of_range_is_bad_response(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ)
    with pytest.raises(WattwaechterBadResponseError) as err:
        await client.history_high_res(date.today() + timedelta(days=3))
    assert err.value.status == 400


async def test_settings(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    settings = await client.settings()
    assert settings.device_name == "WattWaechter"
    assert settings.api_auth_required is True
    assert settings.timezone == "Europe/Berlin"
    assert settings.language == "de"
    assert last_request(simulator) == ("GET", "/api/v1/settings", 200, "read")


async def test_update_settings_rejected(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, write_token=WRITE)
    with pytest.raises(WattwaechterBadResponseError) as err:
        await client.update_settings({"device_name": "   "})
    assert err.value.status == 400
    assert (await client.settings()).device_name == "WattWaechter"


async def test_ota(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    ota = await client.ota_check()
    assert ota.update_available is True
    assert ota.version == "1.3.0"
    assert ota.release_note_en
    assert last_request(simulator) == ("GET", "/api/v1/ota/check", 200, "read")

    assert await client.ota_start() is True
    assert last_request(simulator) == ("POST", "/api/v1/ota/start", 200, "write")
    # A second start while the first download runs is refused by the device.
    assert await client.ota_start() is False


async def test_mqtt_and_modbus_status(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    mqtt = await client.mqtt_status()
    assert (mqtt.enabled, mqtt.state) == (False, "OFF")
    assert last_request(simulator) == ("GET", "/api/v1/mqtt/status", 200, "read")
    modbus = await client.modbus_status()
    assert (modbus.enabled, modbus.running, modbus.port) == (False, False, 502)
    assert modbus.active_connections == 0
    assert last_request(simulator) == ("GET", "/api/v1/modbus/status", 200, "read")


# --- writing -------------------------------------------------------------------


async def test_reboot_takes_the_device_offline(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    assert client.can_write
    await client.reboot()
    assert last_request(simulator) == ("POST", "/api/v1/system/reboot", 200, "write")
    with pytest.raises(WattwaechterConnectionError):
        await client.alive()


async def test_read_token_cannot_reboot(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ)
    assert not client.can_write
    with pytest.raises(WattwaechterForbiddenError):
        await client.reboot()
    assert last_request(simulator) == ("POST", "/api/v1/system/reboot", 403, "read")
    assert (await client.alive()).alive


async def test_write_token_also_reads(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, write_token=WRITE)
    assert (await client.system_info()).esp_id == "AABBCCDDEEFF"
    assert last_request(simulator) == ("GET", "/api/v1/system/info", 200, "write")


async def test_token_rotation(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    pending = await client.generate_tokens()
    assert last_request(simulator) == (
        "POST",
        "/api/v1/auth/tokens/generate",
        200,
        "write",
    )
    assert pending.read_token
    assert pending.write_token
    assert len(pending.read_token) == 16
    assert pending.expires_in == 60
    # The old tokens stay valid until the new write token is confirmed.
    await client.system_info()

    with pytest.raises(WattwaechterBadResponseError):
        await client.confirm_tokens("WRONGTOKEN000000")
    await client.confirm_tokens(pending.write_token)
    assert last_request(simulator) == (
        "POST",
        "/api/v1/auth/tokens/confirm",
        200,
        "write",
    )

    with pytest.raises(WattwaechterAuthError):
        await client.system_info()
    client.set_tokens(pending.read_token, pending.write_token)
    assert (await client.system_info()).esp_id == "AABBCCDDEEFF"
    assert last_request(simulator)[3] == "read"
    client.set_tokens(None, "")
    assert not client.can_write


# --- errors --------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "WRONGTOKEN000000"])
async def test_missing_or_wrong_token(
    simulator: Simulator, session: aiohttp.ClientSession, token: str | None
) -> None:
    client = make_client(simulator, session, read_token=token)
    with pytest.raises(WattwaechterAuthError):
        await client.latest()
    assert last_request(simulator)[2:] == (401, "none" if token is None else "invalid")


async def test_auth_off_needs_no_token(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    simulator.configure(auth_required=False)
    client = make_client(simulator, session)
    assert (await client.system_info()).esp_id == "AABBCCDDEEFF"
    await client.reboot()
    assert last_request(simulator) == ("POST", "/api/v1/system/reboot", 200, "none")


@pytest.mark.parametrize(
    ("fault", "error", "retry_after"),
    [
        (FaultMode.RATE_LIMIT_429, WattwaechterRateLimitedError, 10.0),
        (FaultMode.BUSY_503, WattwaechterBusyError, 5.0),
    ],
)
async def test_retry_later(
    simulator: Simulator,
    session: aiohttp.ClientSession,
    fault: FaultMode,
    error: type[WattwaechterRetryLaterError],
    retry_after: float,
) -> None:
    client = make_client(simulator, session, read_token=READ)
    simulator.set_fault(fault)
    with pytest.raises(error) as err:
        await client.latest()
    assert isinstance(err.value, WattwaechterRetryLaterError)
    assert err.value.retry_after == retry_after
    simulator.clear_faults()
    assert (await client.latest()).values


async def test_real_rate_limit(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ)
    for _ in range(25):
        assert (await client.alive()).alive
    with pytest.raises(WattwaechterRateLimitedError) as err:
        await client.alive()
    assert err.value.retry_after == 10.0
    assert sum(entry.status == 200 for entry in simulator.request_log) == 25


async def test_no_data(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    client = make_client(simulator, session, read_token=READ)
    simulator.set_fault(FaultMode.NO_DATA)
    with pytest.raises(WattwaechterNoDataError):
        await client.latest()
    assert last_request(simulator)[2] == 204


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(first_reading_delay=3600)]
)
async def test_no_data_after_boot(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session)
    with pytest.raises(WattwaechterNoDataError):
        await client.latest()
    assert (await client.alive()).alive


@pytest.mark.parametrize(
    ("fault", "status"),
    [(FaultMode.HTTP_500, 500), (FaultMode.MALFORMED_JSON, 200)],
)
async def test_bad_response(
    simulator: Simulator,
    session: aiohttp.ClientSession,
    fault: FaultMode,
    status: int,
) -> None:
    client = make_client(simulator, session, read_token=READ)
    simulator.set_fault(fault, paths=["/api/v1/system/info"])
    with pytest.raises(WattwaechterBadResponseError) as err:
        await client.system_info()
    assert err.value.status == status
    # Other endpoints are unaffected.
    assert (await client.settings()).device_name == "WattWaechter"


async def test_huge_payload_is_refused(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session, read_token=READ)
    simulator.set_fault(FaultMode.HUGE_PAYLOAD)
    with pytest.raises(WattwaechterBadResponseError, match="too large"):
        await client.latest()


async def test_timeout(simulator: Simulator, session: aiohttp.ClientSession) -> None:
    client = make_client(simulator, session, read_token=READ, request_timeout=0.2)
    simulator.set_fault(FaultMode.TIMEOUT)
    with pytest.raises(WattwaechterTimeoutError) as err:
        await client.latest()
    assert isinstance(err.value, WattwaechterConnectionError)
    simulator.clear_faults()
    assert (await client.latest()).values


@pytest.mark.parametrize("fault", [FaultMode.RESET, FaultMode.OFFLINE])
async def test_connection_dropped(
    simulator: Simulator, session: aiohttp.ClientSession, fault: FaultMode
) -> None:
    client = make_client(simulator, session, read_token=READ)
    simulator.set_fault(fault)
    with pytest.raises(WattwaechterConnectionError) as err:
        await client.system_info()
    assert not isinstance(err.value, WattwaechterTimeoutError)


async def test_device_stopped(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(simulator, session)
    await simulator.stop()
    with pytest.raises(WattwaechterConnectionError):
        await client.alive()


# --- the request gate ------------------------------------------------------------


class FakeGate:
    """Record what the client asks of its gate."""

    def __init__(self) -> None:
        self.acquired: list[Priority] = []
        self.paused: list[float] = []

    async def acquire(self, priority: Priority) -> None:
        self.acquired.append(priority)

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)


async def test_gate_is_asked_before_each_request(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    gate = FakeGate()
    client = make_client(
        simulator, session, read_token=READ, write_token=WRITE, gate=gate
    )
    await client.latest()
    await client.system_info()
    await client.history_low_res(date.today() - timedelta(days=3), 1)
    await client.ota_check()
    await client.update_settings({"ledEnable": True})
    await client.led(priority=Priority.ACTION)
    assert gate.acquired == [
        Priority.METER,
        Priority.SYSTEM,
        Priority.BACKFILL,
        Priority.OTA,
        Priority.ACTION,
        Priority.ACTION,
    ]
    assert len(simulator.request_log) == 6
    assert gate.paused == []

    simulator.set_fault(FaultMode.BUSY_503)
    with pytest.raises(WattwaechterBusyError):
        await client.latest()
    simulator.clear_faults()
    simulator.set_fault(FaultMode.RATE_LIMIT_429)
    with pytest.raises(WattwaechterRateLimitedError):
        await client.latest()
    assert gate.paused == [5.0, 10.0]


async def test_gate_can_refuse(
    simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    class ClosedGate(FakeGate):
        async def acquire(self, priority: Priority) -> None:
            raise WattwaechterRetryLaterError("budget spent", 3.0)

    client = make_client(simulator, session, read_token=READ, gate=ClosedGate())
    with pytest.raises(WattwaechterRetryLaterError):
        await client.latest()
    assert simulator.request_log == []


# --- Retry-After -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        (None, 4.0),
        ("", 4.0),
        ("soon", 4.0),
        ("Fri, 99 Foo 2024 12:00:30 GMT", 4.0),
        ("Fri, 08 Mar 2024 12:00:30 GMT", 30.0),
        ("Fri, 08 Mar 2024 11:00:00 GMT", 0.0),
    ],
)
def test_retry_after(freezer: Any, value: str | None, expected: float) -> None:
    freezer.move_to("2024-03-08T12:00:00+00:00")
    assert _parse_retry_after(value, 4.0) == expected


# --- hosts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "authority", "base_url"),
    [
        ("192.168.1.5", "192.168.1.5", "http://192.168.1.5/api/v1"),
        (" 192.168.1.5 ", "192.168.1.5", "http://192.168.1.5/api/v1"),
        (
            "wattwaechter-aabbccddeeff.local",
            "wattwaechter-aabbccddeeff.local",
            "http://wattwaechter-aabbccddeeff.local/api/v1",
        ),
        (
            "WattWaechter-AABBCCDDEEFF.local.",
            "wattwaechter-aabbccddeeff.local",
            "http://wattwaechter-aabbccddeeff.local/api/v1",
        ),
        ("meter:8080", "meter:8080", "http://meter:8080/api/v1"),
        ("http://meter", "meter", "http://meter/api/v1"),
        ("HTTP://meter:8080/", "meter:8080", "http://meter:8080/api/v1"),
        ("[fe80::1]:8080", "[fe80::1]:8080", "http://[fe80::1]:8080/api/v1"),
        ("fe80::1", "[fe80::1]", "http://[fe80::1]/api/v1"),
        ("http://[::1]:8080", "[::1]:8080", "http://[::1]:8080/api/v1"),
        # An internationalised name goes into the URL in its ASCII form.
        (
            "wattwächter.local",
            "xn--wattwchter-u5a.local",
            "http://xn--wattwchter-u5a.local/api/v1",
        ),
    ],
)
def test_parse_host(text: str, authority: str, base_url: str) -> None:
    address = parse_host(text)
    assert address.authority == authority
    assert str(address.base_url) == base_url


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "host_empty"),
        ("   ", "host_empty"),
        ("my meter", "host_whitespace"),
        ("meter\t1", "host_whitespace"),
        ("https://meter", "host_scheme"),
        ("ftp://meter", "host_scheme"),
        ("http://user:pass@meter", "host_credentials"),
        ("user@meter", "host_credentials"),
        ("meter/api/v1", "host_path"),
        ("http://meter/api", "host_path"),
        ("meter?x=1", "host_path"),
        ("meter#top", "host_path"),
        ("bad_host!", "host_invalid"),
        ("-meter.local", "host_invalid"),
        ("meter:99999", "host_invalid"),
        ("meter:0", "host_invalid"),
        ("meter:abc", "host_invalid"),
        ("http://", "host_invalid"),
        ("[fe80::1", "host_invalid"),
        ("a" * 300, "host_invalid"),
        ("meter\r\nHost: evil", "host_whitespace"),
        ("meter\x00.local", "host_invalid"),
        ("meter%2Fapi", "host_invalid"),
        ("fe80::1%eth0", "host_invalid"),
        ("[fe80::1%25eth0]:80", "host_invalid"),
        ("http://meter:80@evil", "host_credentials"),
        ("//meter", "host_path"),
        ("meter\\api", "host_invalid"),
    ],
)
def test_parse_host_rejects(text: str, reason: str) -> None:
    with pytest.raises(WattwaechterInvalidHostError) as err:
        parse_host(text)
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


async def test_client_validates_host(session: aiohttp.ClientSession) -> None:
    with pytest.raises(WattwaechterInvalidHostError) as err:
        WattwaechterClient("https://meter", session)
    assert err.value.reason == "host_scheme"
    client = WattwaechterClient("http://Meter.local:8080/", session)
    assert client.host == "meter.local:8080"
    assert str(client.base_url) == "http://meter.local:8080/api/v1"


async def test_device_reports_failure_in_the_body(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    """A 200 answer with ``success: false`` is not taken as done."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"success": False, "error": "flash busy"})

    app = web.Application()
    app.router.add_post("/api/v1/settings", refuse)
    app.router.add_post("/api/v1/auth/tokens/confirm", refuse)
    async with TestServer(app, host="127.0.0.1") as server:
        client = WattwaechterClient(f"127.0.0.1:{server.port}", session)
        with pytest.raises(WattwaechterBadResponseError, match="not applied"):
            await client.update_settings({"ledEnable": False})
        with pytest.raises(WattwaechterBadResponseError, match="not confirmed"):
            await client.confirm_tokens("NEWWRITETOKEN000")


# --- tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("READTOKEN1234567", "READTOKEN1234567"),
        ("  READTOKEN1234567\n", "READTOKEN1234567"),
        ("", None),
        ("   ", None),
        (None, None),
        ("a-b_c.d~e!", "a-b_c.d~e!"),
    ],
)
def test_clean_token(text: str | None, token: str | None) -> None:
    assert clean_token(text) == token


@pytest.mark.parametrize(
    "text",
    ["READ TOKEN", "READ\tTOKEN", "READ\r\nX-Evil: 1", "READ\x00", "TÖKEN", "A\x7f"],
)
def test_clean_token_rejects(text: str) -> None:
    with pytest.raises(WattwaechterInvalidTokenError) as err:
        clean_token(text)
    assert err.value.reason == "token_invalid"
    assert isinstance(err.value, ValueError)


async def test_client_validates_tokens(session: aiohttp.ClientSession) -> None:
    """No typed token reaches a header unchecked, also when set later."""
    with pytest.raises(WattwaechterInvalidTokenError):
        WattwaechterClient("meter", session, read_token="A\r\nB")
    with pytest.raises(WattwaechterInvalidTokenError):
        WattwaechterClient("meter", session, write_token="A B")
    client = WattwaechterClient("meter", session, read_token=" READ ")
    with pytest.raises(WattwaechterInvalidTokenError):
        client.set_tokens("READ", "WRITE\n2")
    client.set_tokens(" NEWREAD ", "")
    assert client.can_write is False
