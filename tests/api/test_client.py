"""The HA-free client against the simulated device, over HTTP on loopback.

Every endpoint, every HTTP outcome as its typed error, the budget asked
before each request, and the 401 answered to a request whose tokens were
replaced meanwhile. The loop's clock moves only when a test says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.wattwaechter.api.budget import Priority, RequestBudget
from custom_components.wattwaechter.api.client import WattwaechterClient
from custom_components.wattwaechter.api.errors import (
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterBudgetError,
    WattwaechterBusyError,
    WattwaechterConnectionError,
    WattwaechterForbiddenError,
    WattwaechterNoDataError,
    WattwaechterNotSupportedError,
    WattwaechterRateLimitedError,
    WattwaechterRetryLaterError,
    WattwaechterTimeoutError,
)
from simulator import STATUS_DROPPED, FaultMode, Simulator, SimulatorConfig

from .conftest import START, LoopClock, Outcomes

READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
ACTION, METER, SYSTEM, BACKGROUND = (
    Priority.ACTION,
    Priority.METER,
    Priority.SYSTEM,
    Priority.BACKGROUND,
)
TODAY = datetime.fromtimestamp(START, UTC).date()


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """A device with API authentication on."""
    return SimulatorConfig(auth_required=True)


def make_client(
    sim: Simulator, session: aiohttp.ClientSession, **kwargs: Any
) -> WattwaechterClient:
    """Return a client for the simulator."""
    return WattwaechterClient(f"127.0.0.1:{sim.port}", session, **kwargs)


@pytest.fixture
def client(
    simulator: Simulator, session: aiohttp.ClientSession, clock: LoopClock
) -> WattwaechterClient:
    """A client holding both tokens."""
    return make_client(simulator, session, read_token=READ, write_token=WRITE)


def last(sim: Simulator) -> tuple[str, str, int, str]:
    """Return method, path, status and token level of the last request."""
    entry = sim.request_log[-1]
    return entry.method, entry.path, entry.status, entry.token_level


# --- reading ---------------------------------------------------------------------


async def test_system_info(client: WattwaechterClient, simulator: Simulator) -> None:
    info = await client.system_info(SYSTEM)
    assert info.esp_id == "AABBCCDDEEFF"
    assert info.is_device("aa:bb:cc:dd:ee:ff")
    assert not info.is_device("0C8B95A1B2C3")
    assert info.firmware == "1.2.3"
    assert info.model_id == "ww_plus"
    assert info.product_name == "WattWächter Plus"
    assert info.mac_address == "AA:BB:CC:DD:EE:FF"
    assert info.mdns_name == "wattwaechter-aabbccddeeff.local"
    assert info.ip_address == "127.0.0.1"
    assert isinstance(info.signal_strength, int)
    assert isinstance(info.free_heap, int)
    assert info.uptime_seconds is not None
    assert last(simulator) == ("GET", "/api/v1/system/info", 200, "read")


async def test_led_and_the_led_setting(
    client: WattwaechterClient, simulator: Simulator
) -> None:
    led = await client.led(SYSTEM)
    assert (led.status, led.enabled, led.meter_attention) == ("OK", True, False)
    assert last(simulator) == ("GET", "/api/v1/system/led", 200, "read")

    applied = await client.update_settings({"ledEnable": False}, ACTION)
    assert applied == {"ledEnable": False}
    assert last(simulator) == ("POST", "/api/v1/settings", 200, "write")
    assert (await client.led(SYSTEM)).enabled is False
    assert (await client.settings(SYSTEM)).led_enable is False


async def test_latest(client: WattwaechterClient, simulator: Simulator) -> None:
    reading = await client.latest(METER)
    assert reading.timestamp == pytest.approx(START, abs=1)
    total = reading.values["1.8.0"]
    assert total.unit == "kWh"
    assert total.number is not None
    assert total.number == pytest.approx(simulator.meter.reading(START)[0] / 1000)
    assert isinstance(reading.values["32.7.0"].number, float)  # sent as a string
    assert reading.medium is None
    assert last(simulator) == ("GET", "/api/v1/history/latest", 200, "read")


async def test_history(client: WattwaechterClient, simulator: Simulator) -> None:
    day = TODAY - timedelta(days=2)
    slots = await client.high_res(day, BACKGROUND)
    assert len(slots) in (92, 96, 100)
    assert all(slot.import_total_kwh is not None for slot in slots)
    assert last(simulator) == ("GET", "/api/v1/history/highRes", 200, "read")
    assert simulator.request_log[-1].query == f"date={day.isoformat()}"

    start = TODAY - timedelta(days=10)
    days = await client.low_res(start, 3, BACKGROUND)
    assert [item.day for item in days] == [start + timedelta(days=n) for n in range(3)]
    assert all(item.import_kwh is not None for item in days)
    assert last(simulator) == ("GET", "/api/v1/history/lowRes", 200, "read")
    assert simulator.request_log[-1].query == f"start={start.isoformat()}&days=3"


@pytest.mark.parametrize(
    ("firmware", "status"), [("1.3.1", 204), ("1.2.3", 400)], ids=["1.3", "1.2"]
)
async def test_history_day_without_data_is_empty(
    simulator: Simulator,
    session: aiohttp.ClientSession,
    clock: LoopClock,
    firmware: str,
    status: int,
) -> None:
    """A day the device has no data for: 204 (firmware 1.3) or 400 (older)."""
    gap = TODAY - timedelta(days=3)
    simulator.configure(firmware=firmware, history_gaps=(gap.isoformat(),))
    client = make_client(simulator, session, read_token=READ)
    assert await client.high_res(gap, BACKGROUND) == ()
    assert last(simulator)[2] == status
    assert await client.high_res(TODAY + timedelta(days=3), BACKGROUND) == ()
    assert await client.low_res(gap, 1, BACKGROUND) == ()


async def test_history_other_failures_are_errors(
    client: WattwaechterClient, simulator: Simulator
) -> None:
    simulator.set_fault(FaultMode.HTTP_500, paths=["/history/highRes"])
    with pytest.raises(WattwaechterBadResponseError) as err:
        await client.high_res(TODAY, BACKGROUND)
    assert err.value.status == 500


async def test_settings(client: WattwaechterClient, simulator: Simulator) -> None:
    settings = await client.settings(SYSTEM)
    assert settings.device_name == "WattWaechter"
    assert settings.api_auth_required is True
    assert settings.timezone == "Europe/Berlin"
    assert settings.language == "de"
    assert settings.led_enable is True
    assert last(simulator) == ("GET", "/api/v1/settings", 200, "read")


async def test_settings_change_refused(
    client: WattwaechterClient, simulator: Simulator
) -> None:
    with pytest.raises(WattwaechterBadResponseError) as err:
        await client.update_settings({"device_name": "   "}, ACTION)
    assert err.value.status == 400
    assert (await client.settings(SYSTEM)).device_name == "WattWaechter"


async def test_ota(client: WattwaechterClient, simulator: Simulator) -> None:
    ota = await client.ota_check(SYSTEM)
    assert ota.update_available is True
    assert ota.version == "1.3.0"
    assert ota.release_note_en
    assert last(simulator) == ("GET", "/api/v1/ota/check", 200, "read")

    assert await client.ota_start(ACTION) is True
    assert last(simulator) == ("POST", "/api/v1/ota/start", 200, "write")
    # A second start while the download runs is refused by the device.
    assert await client.ota_start(ACTION) is False


@pytest.mark.parametrize("firmware", ["1.3.0", "1.2.3"])
async def test_ota_start_without_an_update_starts_nothing(
    simulator: Simulator,
    session: aiohttp.ClientSession,
    clock: LoopClock,
    firmware: str,
) -> None:
    """Firmware 1.3 answers ok with update_available false; older ok false."""
    simulator.configure(firmware=firmware, ota_version=firmware)
    client = make_client(simulator, session, write_token=WRITE)
    assert (await client.ota_check(SYSTEM)).update_available is False
    assert await client.ota_start(ACTION) is False
    assert last(simulator)[:3] == ("POST", "/api/v1/ota/start", 200)


# --- writing and tokens ------------------------------------------------------------


async def test_reboot_takes_the_device_away(
    client: WattwaechterClient, simulator: Simulator, clock: LoopClock
) -> None:
    assert client.can_write
    await client.reboot(ACTION)
    assert last(simulator) == ("POST", "/api/v1/system/reboot", 200, "write")
    with pytest.raises(WattwaechterConnectionError):
        await client.system_info(SYSTEM)
    await clock.advance(11)
    assert (await client.system_info(SYSTEM)).esp_id


async def test_read_token_cannot_reboot(
    simulator: Simulator, session: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = make_client(simulator, session, read_token=READ)
    assert not client.can_write
    with pytest.raises(WattwaechterForbiddenError):
        await client.reboot(ACTION)
    assert last(simulator) == ("POST", "/api/v1/system/reboot", 403, "read")
    assert (await client.system_info(SYSTEM)).esp_id


async def test_write_token_also_reads(
    simulator: Simulator, session: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = make_client(simulator, session, write_token=WRITE)
    assert (await client.system_info(SYSTEM)).esp_id == "AABBCCDDEEFF"
    assert last(simulator) == ("GET", "/api/v1/system/info", 200, "write")


async def test_token_rotation(client: WattwaechterClient, simulator: Simulator) -> None:
    pending = await client.generate_tokens(ACTION)
    assert last(simulator) == ("POST", "/api/v1/auth/tokens/generate", 200, "write")
    assert pending.read_token
    assert pending.write_token
    assert len(pending.read_token) == 16
    # The old tokens work until the new WRITE token is confirmed.
    await client.system_info(SYSTEM)

    with pytest.raises(WattwaechterBadResponseError):
        await client.confirm_tokens("WRONGTOKEN000000", ACTION)
    pending = await client.generate_tokens(ACTION)
    assert pending.write_token
    await client.confirm_tokens(pending.write_token, ACTION)
    assert last(simulator) == ("POST", "/api/v1/auth/tokens/confirm", 200, "write")

    with pytest.raises(WattwaechterAuthError):
        await client.system_info(SYSTEM)
    client.set_tokens(pending.read_token, pending.write_token)
    assert (await client.system_info(SYSTEM)).esp_id == "AABBCCDDEEFF"
    assert last(simulator)[3] == "read"
    client.set_tokens(None, "")
    assert not client.can_write


async def test_401_after_a_token_change_is_asked_again(
    simulator: Simulator,
    session: aiohttp.ClientSession,
    clock: LoopClock,
    outcomes: Outcomes,
) -> None:
    """A poll on its way while the tokens rotate is sent again with the new ones."""
    simulator.configure(latency=1.0)
    client = make_client(simulator, session, read_token=READ, write_token=WRITE)
    await outcomes.start(client.latest(METER), "poll")
    # Meanwhile the rotation went through: the device and the client switch.
    simulator.configure(read_token="NEWREAD000000000", write_token="NEWWRITE00000000")
    client.set_tokens("NEWREAD000000000", "NEWWRITE00000000")
    await clock.advance(1)
    await clock.advance(1)
    assert outcomes.log == ["poll"]
    assert [(r.status, r.token_level) for r in simulator.request_log] == [
        (401, "invalid"),
        (200, "read"),
    ]
    assert client.budget.stats.granted == {"meter": 2}


@pytest.mark.parametrize("token", [None, "WRONGTOKEN000000"])
async def test_missing_or_wrong_token(
    simulator: Simulator,
    session: aiohttp.ClientSession,
    clock: LoopClock,
    token: str | None,
) -> None:
    """A 401 with the tokens unchanged is not asked again."""
    client = make_client(simulator, session, read_token=token)
    with pytest.raises(WattwaechterAuthError):
        await client.latest(METER)
    assert [(r.status, r.token_level) for r in simulator.request_log] == [
        (401, "none" if token is None else "invalid")
    ]


async def test_auth_off_needs_no_token(
    simulator: Simulator, session: aiohttp.ClientSession, clock: LoopClock
) -> None:
    simulator.configure(auth_required=False)
    client = make_client(simulator, session)
    assert client.host == f"127.0.0.1:{simulator.port}"
    assert (await client.system_info(SYSTEM)).esp_id == "AABBCCDDEEFF"
    await client.reboot(ACTION)
    assert last(simulator) == ("POST", "/api/v1/system/reboot", 200, "none")


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "retry_after"),
    [
        (FaultMode.RATE_LIMIT_429, WattwaechterRateLimitedError, 10.0),
        (FaultMode.BUSY_503, WattwaechterBusyError, 5.0),
    ],
)
async def test_retry_later_pauses_the_budget(
    client: WattwaechterClient,
    simulator: Simulator,
    clock: LoopClock,
    fault: FaultMode,
    error: type[WattwaechterRetryLaterError],
    retry_after: float,
) -> None:
    """429/503 become errors with Retry-After; nothing is sent during the pause."""
    simulator.set_fault(fault, count=1)
    with pytest.raises(error) as err:
        await client.latest(METER)
    assert err.value.retry_after == retry_after
    assert client.budget.paused_for() == retry_after
    # An action cannot wait that long: refused without a request.
    with pytest.raises(WattwaechterBudgetError):
        await client.update_settings({"ledEnable": False}, ACTION)
    assert len(simulator.request_log) == 1
    await clock.advance(retry_after)
    assert (await client.latest(METER)).values


async def test_refusal_to_background_work_pauses_only_it(
    client: WattwaechterClient, simulator: Simulator
) -> None:
    simulator.set_fault(FaultMode.BUSY_503, count=1)
    with pytest.raises(WattwaechterBusyError):
        await client.high_res(TODAY, BACKGROUND)
    assert client.budget.paused_for(BACKGROUND) == 5.0
    assert client.budget.paused_for(METER) == 0.0
    assert (await client.latest(METER)).values


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(auth_required=True, cotenant_rate=20)]
)
async def test_the_device_limit_shared_with_another_client(
    client: WattwaechterClient, simulator: Simulator, clock: LoopClock
) -> None:
    """Another client uses 20 of 25: our sixth request is refused, we pause."""
    for _ in range(5):
        assert (await client.system_info(ACTION)).esp_id
    with pytest.raises(WattwaechterRateLimitedError) as err:
        await client.system_info(ACTION)
    assert err.value.retry_after == 10.0
    assert [r.status for r in simulator.request_log] == [200] * 5 + [429]
    with pytest.raises(WattwaechterBudgetError):
        await client.system_info(ACTION)
    assert len(simulator.request_log) == 6
    await clock.advance(10)
    assert (await client.system_info(ACTION)).esp_id


async def test_no_data(client: WattwaechterClient, simulator: Simulator) -> None:
    simulator.set_fault(FaultMode.NO_DATA)
    with pytest.raises(WattwaechterNoDataError):
        await client.latest(METER)
    assert last(simulator)[2] == 204


@pytest.mark.parametrize(
    "simulator_config",
    [SimulatorConfig(missing_endpoints=("/system/led", "/ota/check"))],
)
async def test_endpoint_missing_in_the_firmware(
    simulator: Simulator, session: aiohttp.ClientSession, clock: LoopClock
) -> None:
    client = make_client(simulator, session)
    with pytest.raises(WattwaechterNotSupportedError):
        await client.led(SYSTEM)
    with pytest.raises(WattwaechterNotSupportedError):
        await client.ota_check(SYSTEM)
    assert last(simulator)[2] == 404


@pytest.mark.parametrize(
    ("fault", "status"), [(FaultMode.HTTP_500, 500), (FaultMode.MALFORMED_JSON, 200)]
)
async def test_bad_response(
    client: WattwaechterClient, simulator: Simulator, fault: FaultMode, status: int
) -> None:
    simulator.set_fault(fault, paths=["/system/info"])
    with pytest.raises(WattwaechterBadResponseError) as err:
        await client.system_info(SYSTEM)
    assert err.value.status == status
    # Other endpoints are unaffected.
    assert (await client.settings(SYSTEM)).device_name == "WattWaechter"


async def test_huge_payload_is_refused(
    client: WattwaechterClient, simulator: Simulator
) -> None:
    simulator.set_fault(FaultMode.HUGE_PAYLOAD)
    with pytest.raises(WattwaechterBadResponseError, match="too large"):
        await client.latest(METER)
    simulator.clear_faults()
    assert (await client.latest(METER)).values


async def test_timeout(
    client: WattwaechterClient,
    simulator: Simulator,
    clock: LoopClock,
    outcomes: Outcomes,
) -> None:
    """No answer within 10 s is a timeout, a kind of connection error."""
    simulator.set_fault(FaultMode.TIMEOUT, count=1)
    await outcomes.start(client.latest(METER), "poll")
    await clock.advance(9.9)
    assert outcomes.log == []
    await clock.advance(0.1)
    assert outcomes.log == [("poll", "WattwaechterTimeoutError")]
    assert issubclass(WattwaechterTimeoutError, WattwaechterConnectionError)
    assert (await client.latest(METER)).values


@pytest.mark.parametrize("fault", [FaultMode.RESET, FaultMode.OFFLINE])
async def test_connection_dropped(
    client: WattwaechterClient, simulator: Simulator, fault: FaultMode
) -> None:
    simulator.set_fault(fault)
    with pytest.raises(WattwaechterConnectionError) as err:
        await client.system_info(SYSTEM)
    assert not isinstance(err.value, WattwaechterTimeoutError)
    assert {r.status for r in simulator.request_log} == {STATUS_DROPPED}


async def test_device_stopped(client: WattwaechterClient, simulator: Simulator) -> None:
    await simulator.stop()
    with pytest.raises(WattwaechterConnectionError):
        await client.system_info(SYSTEM)


# --- the budget ----------------------------------------------------------------------


async def test_each_request_asks_the_budget_with_its_priority(
    client: WattwaechterClient, simulator: Simulator, session: aiohttp.ClientSession
) -> None:
    budget = RequestBudget()
    shared = WattwaechterClient(
        client.host, session, read_token=READ, write_token=WRITE, budget=budget
    )
    await shared.latest(METER)
    await shared.system_info(SYSTEM)
    await shared.low_res(TODAY - timedelta(days=3), 1, BACKGROUND)
    await shared.ota_check(SYSTEM)
    await shared.update_settings({"ledEnable": True}, ACTION)
    await shared.led(ACTION)
    assert budget.stats.granted == {
        "meter": 1,
        "system": 2,
        "background": 1,
        "action": 2,
    }
    assert len(simulator.request_log) == 6
    assert client.budget is not budget


async def test_a_refused_slot_sends_nothing(
    client: WattwaechterClient, simulator: Simulator
) -> None:
    client.budget.pause(60, ACTION)
    with pytest.raises(WattwaechterBudgetError) as err:
        await client.reboot(ACTION)
    assert err.value.retry_after == pytest.approx(60)
    assert simulator.request_log == []


# --- answers the simulator does not give ---------------------------------------------


class Scripted:
    """A device that answers with whatever the test queued."""

    def __init__(self, port: int, answers: list[web.Response]) -> None:
        """Serve ``answers`` in order on ``port``."""
        self.answers = answers
        self.host = f"127.0.0.1:{port}"


@pytest.fixture
async def server(socket_enabled: None, clock: LoopClock) -> AsyncIterator[Scripted]:
    """Run a device that answers with whatever the test queued."""
    answers: list[web.Response] = []

    async def respond(request: web.Request) -> web.Response:
        return answers.pop(0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", respond)
    async with TestServer(app, host="127.0.0.1") as test_server:
        yield Scripted(test_server.port, answers)


def future_date(seconds: float) -> str:
    """Return an HTTP date ``seconds`` from now (real time, as the client reads)."""
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("status", "header", "expected"),
    [
        (429, "7", 7.0),
        (429, "2.5", 2.5),
        (429, "-3", 0.0),
        (429, None, 10.0),
        (503, None, 5.0),
        (429, "soon", 10.0),
        (503, "Fri, 99 Foo 2024 12:00:30 GMT", 5.0),
        (429, "Fri, 08 Mar 2024 11:00:00 GMT", 0.0),
        (429, "future", 30.0),
    ],
)
async def test_retry_after(
    server: Scripted,
    session: aiohttp.ClientSession,
    status: int,
    header: str | None,
    expected: float,
) -> None:
    """Seconds, an HTTP date or nothing usable (then 10 s for 429, 5 s for 503)."""
    answers = server.answers
    if header == "future":
        header = future_date(30)
    headers = {} if header is None else {"Retry-After": header}
    answers.append(web.Response(status=status, headers=headers))
    client = WattwaechterClient(server.host, session)
    with pytest.raises(WattwaechterRetryLaterError) as err:
        await client.latest(METER)
    assert err.value.retry_after == pytest.approx(expected, abs=1.5)
    assert client.budget.paused_for() == pytest.approx(expected, abs=1.5)


async def test_device_reports_failure_in_the_body(
    server: Scripted,
    session: aiohttp.ClientSession,
) -> None:
    """A 200 answer with ``success: false`` is not taken as done."""
    answers = server.answers
    answers.extend(
        web.json_response({"success": False, "error": "flash busy"}) for _ in range(2)
    )
    client = WattwaechterClient(server.host, session)
    with pytest.raises(WattwaechterBadResponseError, match="not applied"):
        await client.update_settings({"ledEnable": False}, ACTION)
    with pytest.raises(WattwaechterBadResponseError, match="not confirmed"):
        await client.confirm_tokens("NEWWRITETOKEN000", ACTION)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (204, WattwaechterNoDataError),
        (401, WattwaechterAuthError),
        (403, WattwaechterForbiddenError),
        (404, WattwaechterNotSupportedError),
        (418, WattwaechterBadResponseError),
    ],
)
async def test_status_mapping(
    server: Scripted,
    session: aiohttp.ClientSession,
    status: int,
    error: type[Exception],
) -> None:
    answers = server.answers
    answers.append(web.Response(status=status))
    client = WattwaechterClient(server.host, session)
    with pytest.raises(error):
        await client.settings(SYSTEM)


async def test_accepted_and_odd_bodies(
    server: Scripted,
    session: aiohttp.ClientSession,
) -> None:
    """202 counts as success; a JSON answer of the wrong shape parses as empty."""
    answers = server.answers
    answers.append(
        web.json_response({"ok": True, "update_available": True}, status=202)
    )
    answers.append(web.json_response(["not", "an", "object"]))
    answers.append(web.Response(body=b"\xff\xfe", content_type="application/json"))
    client = WattwaechterClient(server.host, session)
    assert await client.ota_start(ACTION) is True
    assert (await client.settings(SYSTEM)).raw == {}
    with pytest.raises(WattwaechterBadResponseError, match="not JSON"):
        await client.latest(METER)


def test_today_is_the_simulated_day() -> None:
    """The simulator's clock starts on the day the history tests use."""
    assert date(2026, 3, 10) == TODAY


GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden" / "vendor"


def golden(name: str) -> web.Response:
    """Return a device's published answer as a response."""
    return web.json_response(json.loads((GOLDEN / name).read_text(encoding="utf-8")))


async def test_golden_answers_of_the_write_endpoints(
    server: Scripted, session: aiohttp.ClientSession
) -> None:
    """What real devices answered to a start, a change, a confirm, a reboot."""
    server.answers.extend(
        golden(name)
        for name in (
            "post_ota_start.test_ota_start.json",
            "post_ota_start.test_ota_start_no_update.json",
            "post_settings.test_update_settings.json",
            "post_auth_tokens_confirm.test_confirm_tokens.json",
            "post_system_reboot.test_reboot.json",
        )
    )
    client = WattwaechterClient(server.host, session, write_token=WRITE)
    assert await client.ota_start(ACTION) is True
    assert await client.ota_start(ACTION) is False
    assert await client.update_settings({"ledEnable": False}, ACTION) == {
        "ledEnable": False
    }
    await client.confirm_tokens("X9Y8Z7W6V5U4T3S2", ACTION)
    await client.reboot(ACTION)
    assert server.answers == []
