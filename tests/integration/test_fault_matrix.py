"""The fault matrix: one test per simulator fault mode, a reboot during an OTA
update, and the device moving to a new address.

Each test asserts that

* nothing is logged with a traceback (no record carries ``exc_info``, no
  "Traceback" in the text), at any level;
* the affected entities show the fault within one meter update: unavailable,
  unknown (one unreadable value), or holding the last good value (a total that
  glitches);
* going away and coming back are logged once each (one WARNING/ERROR line and
  one INFO line of our loggers), however long the fault lasts;
* everything is back within one update after the fault clears.

With ``WATTWAECHTER_FAULT_TABLE=<file>`` each test appends its measurements as
one JSON line; ``scripts/fault_table`` runs the matrix and prints the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from ipaddress import ip_address
import json
import logging
import os
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_ZEROCONF, ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_HOST, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import pytest

from custom_components.wattwaechter import update
from custom_components.wattwaechter.api import client as api_client
from custom_components.wattwaechter.const import DEFAULT_SCAN_INTERVAL, DOMAIN
from simulator import FaultMode, Simulator

from .conftest import setup_via_flow
from .helpers import advance, entity_id, state
from .test_update import SleepSpy, drive, start_install

OUR_LOGGER = "custom_components.wattwaechter"
INTERVAL = DEFAULT_SCAN_INTERVAL.total_seconds()
# The fault stays on for this many updates after it showed, to prove that a
# long fault is still logged once.
HOLD_UPDATES = 3
ENERGY = ("1.8.0", "2.8.0")
POWER = ("16.7.0", "32.7.0", "31.7.0")
METER = (*ENERGY, *POWER, "14.7.0")


@dataclass
class Measured:
    """One row of the fault table."""

    fault: str
    effect: str
    shows_after: float | None
    """Virtual seconds from the fault until the entities showed it."""
    recovered_after: float | None
    """Virtual seconds from the end of the fault until everything was back."""
    warnings: int
    """Records of our loggers at WARNING or above, fault and recovery."""
    infos: int
    """Records of our loggers at INFO, fault and recovery."""


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture everything our loggers say, down to DEBUG."""
    caplog.set_level(logging.DEBUG, logger=OUR_LOGGER)
    caplog.set_level(logging.DEBUG, logger="homeassistant.helpers.update_coordinator")


def report(row: Measured) -> None:
    """Append the row to the table file, if one was asked for."""
    if path := os.environ.get("WATTWAECHTER_FAULT_TABLE"):
        with open(path, "a", encoding="utf-8") as table:
            table.write(json.dumps(asdict(row)) + "\n")


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """No record carries a traceback: at INFO and above from any logger, and at
    every level from our loggers and Home Assistant's.

    Left out: asyncio's DEBUG records of a transport reset by the peer, which
    exist only because the tests run the event loop in debug mode.
    """
    for record in caplog.records:
        if record.name.startswith("asyncio") and record.levelno < logging.INFO:
            continue
        assert not record.exc_info, f"traceback in {record.name}: {record.msg}"
        assert not record.exc_text, f"traceback in {record.name}: {record.msg}"
        assert "Traceback" not in record.getMessage(), record.getMessage()


def ours(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Return our records at ``level`` (WARNING means WARNING and above)."""
    return [
        f"{r.levelname} {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith(OUR_LOGGER)
        and (r.levelno >= level if level >= logging.WARNING else r.levelno == level)
    ]


async def until(
    hass: HomeAssistant, done: Callable[[], bool], limit: float = INTERVAL + 1
) -> float:
    """Move the clock a second at a time until ``done``; return the seconds."""
    elapsed = 0.0
    while not done():
        assert elapsed < limit, f"not within {limit:g} s"
        await advance(hass, 1)
        elapsed += 1
    return elapsed


class Look:
    """Reads the meter entities of an entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Look at ``entry``'s sensors."""
        self.hass = hass
        self.entry = entry

    def state(self, key: str) -> str:
        """Return the state of the sensor of ``key``."""
        return state(self.hass, self.entry, key).state

    def all(self, keys: tuple[str, ...], wanted: str) -> bool:
        """Return True when every sensor of ``keys`` is in state ``wanted``."""
        return all(self.state(key) == wanted for key in keys)

    def numbers(self, keys: tuple[str, ...]) -> bool:
        """Return True when every sensor of ``keys`` shows a number."""
        for key in keys:
            try:
                float(self.state(key))
            except ValueError:
                return False
        return True


@dataclass(frozen=True)
class Case:
    """One fault mode and what it should do."""

    fault: FaultMode
    effect: str
    """unavailable, unknown, held (last good value), none, new (entities)."""
    keys: tuple[str, ...] = METER
    paths: tuple[str, ...] | None = None
    went: int = 1
    """WARNING/ERROR lines expected for the whole fault."""
    back: int = 1
    """INFO lines expected for the recovery."""


CASES = [
    Case(FaultMode.TIMEOUT, "unavailable"),
    Case(FaultMode.RESET, "unavailable"),
    Case(FaultMode.MALFORMED_JSON, "unavailable"),
    Case(FaultMode.HTTP_500, "unavailable"),
    Case(FaultMode.NO_DATA, "unavailable", paths=("/history/latest",)),
    Case(FaultMode.BUSY_503, "unavailable"),
    Case(FaultMode.RATE_LIMIT_429, "unavailable"),
    Case(FaultMode.STRING_VALUES, "none", went=0, back=0),
    Case(FaultMode.NAN, "unknown", keys=POWER, went=0, back=0),
    # One warning per total (import and export), nothing when it ends.
    Case(FaultMode.COUNTER_ZERO, "held", keys=ENERGY, went=2, back=0),
    Case(FaultMode.COUNTER_BACKWARDS, "held", keys=ENERGY, went=2, back=0),
    Case(FaultMode.HUGE_PAYLOAD, "unavailable"),
    Case(FaultMode.NEW_OBIS, "new", keys=("1.8.3", "3.7.0"), went=0, back=0),
    Case(
        FaultMode.MISSING_FIELDS,
        "unavailable",
        keys=("2.8.1", "13.7.0", "51.7.0"),
        went=0,
        back=0,
    ),
    Case(FaultMode.OFFLINE, "unavailable"),
]


@pytest.fixture
def short_timeout() -> Iterator[None]:
    """Clients made from now on give up after half a second."""
    with patch.object(api_client, "DEFAULT_TIMEOUT", 0.5):
        yield


@pytest.mark.parametrize("case", CASES, ids=[str(c.fault) for c in CASES])
async def test_fault(
    hass: HomeAssistant,
    short_timeout: None,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    case: Case,
) -> None:
    """Set the fault, hold it, clear it: see the module docstring."""
    entry = await setup_via_flow(hass, device)
    look = Look(hass, entry)
    held = {key: look.state(key) for key in ENERGY}
    caplog.clear()

    device.set_fault(case.fault, paths=case.paths)
    if case.effect == "unavailable":
        shows = await until(hass, lambda: look.all(case.keys, STATE_UNAVAILABLE))
    elif case.effect == "unknown":
        shows = await until(hass, lambda: look.all(case.keys, STATE_UNKNOWN))
    elif case.effect == "new":
        shows = await until(hass, lambda: _exists(hass, entry, case.keys))
    elif case.effect == "held":
        # The guard held the totals back: its warnings are there.
        shows = await until(hass, lambda: len(ours(caplog, logging.WARNING)) > 0)
    else:
        # Nothing may change for the worse: look after one full update.
        shows = None
        await advance(hass, INTERVAL)
    for _ in range(HOLD_UPDATES):
        await advance(hass, INTERVAL)
        if case.effect == "held":
            assert {key: look.state(key) for key in ENERGY} == held
        elif case.effect == "none":
            assert look.numbers(METER)
        elif case.effect != "new":
            wanted = (
                STATE_UNAVAILABLE if case.effect == "unavailable" else STATE_UNKNOWN
            )
            assert look.all(case.keys, wanted)
    went = ours(caplog, logging.WARNING)

    device.clear_faults()
    cleared = device.now()
    # One update: the 10 s interval plus HA's timer jitter (< 0.5 s). After a
    # 429/503 the device's Retry-After (10 s / 5 s) pauses all traffic; a poll
    # that falls just before the end of that pause waits for it, so those two
    # recover within one update as well.
    recovered = await until(
        hass,
        lambda: polled(device, cleared) and look.numbers(METER),
        limit=INTERVAL + 2,
    )
    if case.effect == "held":
        for key in ENERGY:
            assert float(look.state(key)) == pytest.approx(
                truth(device, key), abs=0.0015
            )
    await advance(hass, INTERVAL)
    assert look.numbers(METER)

    assert_no_traceback(caplog)
    assert len(went) == case.went, went
    assert ours(caplog, logging.WARNING) == went, "logged again after recovery"
    back = ours(caplog, logging.INFO)
    assert len(back) == case.back, back
    report(
        Measured(
            fault=str(case.fault),
            effect=case.effect,
            shows_after=shows,
            recovered_after=recovered,
            warnings=len(went),
            infos=len(back),
        )
    )
    assert entry.state is ConfigEntryState.LOADED


def polled(device: Simulator, since: float) -> bool:
    """Return True when a meter update reached the device since ``since``."""
    return any(
        r.path == "/api/v1/history/latest" and r.status == 200 and r.time >= since
        for r in device.request_log
    )


def truth(device: Simulator, code: str) -> float:
    """Return the exact total the device holds now (kWh)."""
    imp, exp = device.meter.reading(device.now())
    return (imp if code == "1.8.0" else exp) / 1000


def _exists(hass: HomeAssistant, entry: ConfigEntry, keys: tuple[str, ...]) -> bool:
    """Return True when every sensor of ``keys`` exists and shows a number."""
    try:
        return Look(hass, entry).numbers(keys)
    except AssertionError:
        return False


@pytest.fixture
def sleep_spy() -> Iterator[SleepSpy]:
    """Let the test see when the install waits for its next look."""
    spy = SleepSpy()
    with patch.object(update, "sleep", spy):
        yield spy


class Timeline:
    """When (simulator seconds) the import sensor went away and came back."""

    def __init__(self, hass: HomeAssistant, entity: str, device: Simulator) -> None:
        """Follow ``entity`` from now on."""
        self.gone: float | None = None
        self.back: float | None = None

        @callback
        def changed(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if new is None:
                return
            if new.state == STATE_UNAVAILABLE and self.gone is None:
                self.gone = device.now()
            elif new.state != STATE_UNAVAILABLE and self.gone is not None:
                self.back = self.back or device.now()

        async_track_state_change_event(hass, [entity], changed)


async def test_reboot_during_ota(
    hass: HomeAssistant,
    device: Simulator,
    caplog: pytest.LogCaptureFixture,
    sleep_spy: SleepSpy,
) -> None:
    """The device flashes and reboots: meter entities unavailable, then back.

    Polling pauses when the install starts (one INFO line); the first answer
    after the reboot brings every entity back (one INFO line).
    """
    entry = await setup_via_flow(hass, device)
    boots = device.state.boots
    timeline = Timeline(hass, entity_id(hass, entry, "1.8.0"), device)
    caplog.clear()
    started = device.now()
    task = start_install(hass, entry)
    await drive(hass, task, sleep_spy)
    await task

    assert device.state.firmware == "1.3.0"
    assert device.state.boots == boots + 1
    assert timeline.gone is not None
    assert timeline.back is not None
    # Back within one look of the install (5 s) after the reboot ended.
    recovered = timeline.back - device.state.boot_time
    assert 0 <= recovered <= update.OTA_POLL_INTERVAL
    assert Look(hass, entry).numbers(METER)
    assert_no_traceback(caplog)
    assert ours(caplog, logging.WARNING) == []
    infos = ours(caplog, logging.INFO)
    assert len(infos) == 2, infos
    assert "installs firmware 1.3.0" in infos[0]
    assert infos[1].endswith("is back")
    report(
        Measured(
            fault="reboot during OTA",
            effect="unavailable",
            shows_after=round(timeline.gone - started, 1),
            recovered_after=round(recovered, 1),
            warnings=0,
            infos=len(infos),
        )
    )


async def test_new_address(
    hass: HomeAssistant, device: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The device comes back at another address and announces itself there.

    The zeroconf announcement updates the entry's host and reloads it; the
    entities are back at once.
    """
    entry = await setup_via_flow(hass, device)
    look = Look(hass, entry)
    caplog.clear()
    old_port = device.port
    await device.stop()
    shows = await until(hass, lambda: look.all(METER, STATE_UNAVAILABLE))
    for _ in range(HOLD_UPDATES):
        await advance(hass, INTERVAL)
    await device.start(host="127.0.0.1", port=0)
    assert device.port != old_port
    went = ours(caplog, logging.WARNING)

    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_ZEROCONF},
        data=ZeroconfServiceInfo(
            ip_address=ip_address("127.0.0.1"),
            ip_addresses=[ip_address("127.0.0.1")],
            port=device.port,
            hostname="wattwaechter-aabbccddeeff.local.",
            type="_wattwaechter._tcp.local.",
            name="WWP-AABBCCDDEEFF._wattwaechter._tcp.local.",
            properties={"id": "WWP-AABBCCDDEEFF", "model": "WW-Plus", "ver": "1.2.3"},
        ),
    )
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    recovered = await until(hass, lambda: look.numbers(METER), limit=0)
    assert entry.data[CONF_HOST] == f"127.0.0.1:{device.port}"
    assert entry.state is ConfigEntryState.LOADED
    await advance(hass, INTERVAL)
    assert look.numbers(METER)

    assert_no_traceback(caplog)
    assert len(went) == 1, went
    assert ours(caplog, logging.WARNING) == went
    infos = ours(caplog, logging.INFO)
    assert len(infos) == 1, infos
    assert f"at 127.0.0.1:{device.port} (was 127.0.0.1:{old_port})" in infos[0]
    report(
        Measured(
            fault="new IP address (zeroconf)",
            effect="unavailable",
            shows_after=shows,
            recovered_after=recovered,
            warnings=len(went),
            infos=len(infos),
        )
    )
