"""Diagnostics: complete, free of secrets, and stable (a committed snapshot).

The snapshot is a plain JSON file, not a syrupy ``.ambr`` file: syrupy's
format differs between the HA versions we test on. Volatile values (the port,
times, live readings) are normalised before the comparison. Regenerate it with
``WATTWAECHTER_UPDATE_SNAPSHOTS=1 pytest tests/integration/test_diagnostics.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from simulator import FaultMode, Simulator

from .conftest import setup_via_flow
from .helpers import advance

SNAPSHOTS = Path(__file__).parent / "snapshots"
READ = "READTOKEN1234567"
WRITE = "WRITETOKEN123456"
# What must never appear in a diagnostics download.
SECRETS = (
    READ,
    WRITE,
    "AABBCCDDEEFF",
    "aabbccddeeff",
    "AA:BB:CC:DD:EE:FF",
    "aa:bb:cc:dd:ee:ff",
    "SimNetwork",
    "1EMH0012345678",
)
VOLATILE_KEYS = {
    "timestamp",
    "last_checked",
    "uptime",
    "free_heap",
    "signal_strength",
    "datetime",
    "value",
    "last_good",
}
# Every number below these keys depends on timing (request counts, pauses).
VOLATILE_TREES = {"budget", "candidate"}


def normalise(value: Any, key: str = "", volatile: bool = False) -> Any:
    """Replace what changes from run to run by a marker of its type."""
    volatile = volatile or key in VOLATILE_TREES
    if isinstance(value, dict):
        return {k: normalise(v, k, volatile) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(item, key, volatile) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        value = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", value)
        return "<volatile>" if key in VOLATILE_KEYS - {"value"} else value
    if isinstance(value, int | float) and (volatile or key in VOLATILE_KEYS):
        return f"<{type(value).__name__}>"
    return value


def compare(name: str, data: Any) -> None:
    """Compare with the committed snapshot (or write it)."""
    path = SNAPSHOTS / f"{name}.json"
    normalised = normalise(data)
    if os.environ.get("WATTWAECHTER_UPDATE_SNAPSHOTS"):
        path.write_text(
            json.dumps(normalised, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
            encoding="utf-8",
        )
    assert normalised == json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
async def secured(hass: HomeAssistant, device: Simulator) -> ConfigEntry:
    """A loaded entry of a device with auth on, both tokens stored."""
    device.configure(auth_required=True)
    device.set_fault(FaultMode.NEW_OBIS)
    entry = await setup_via_flow(hass, device, token=READ, write_token=WRITE)
    await advance(hass, 10)
    return entry


async def test_entry_diagnostics(
    hass: HomeAssistant, secured: ConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    data = await get_diagnostics_for_config_entry(hass, hass_client, secured)
    text = json.dumps(data)
    for secret in SECRETS:
        assert secret not in text, secret
    assert data["entry"]["data"]["token"] == "**REDACTED**"
    assert data["meter"]["registers"]["96.1.0"]["value"] == "**REDACTED**"
    assert data["system"]["wifi"]["ssid"] == "**REDACTED**"
    assert data["settings"]["api_auth_required"] is True
    assert data["led"]["status"] == "OK"
    assert data["ota"]["version"] == "1.3.0"
    assert data["coordinators"]["meter"]["last_update_success"] is True
    compare("diagnostics_entry", data)


async def test_device_diagnostics(
    hass: HomeAssistant, secured: ConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    (device,) = dr.async_entries_for_config_entry(dr.async_get(hass), secured.entry_id)
    data = await get_diagnostics_for_device(hass, hass_client, secured, device)
    text = json.dumps(data)
    for secret in SECRETS:
        assert secret not in text, secret
    assert data["device"]["model"] == "WattWächter Plus"
    assert data["device"]["identifiers"] == "**REDACTED**"
    compare("diagnostics_device", data)


async def test_diagnostics_of_a_device_that_is_away(
    hass: HomeAssistant,
    entry: ConfigEntry,
    device: Simulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """A failing coordinator shows its reason; the last data stays."""
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, 10)
    data = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert data["coordinators"]["meter"] == {
        "last_update_success": False,
        "last_error": "cannot_connect",
        "update_interval": 10.0,
    }
    assert data["meter"]["registers"]["1.8.0"]["unit"] == "kWh"


def test_budget_statistics_are_plain_json() -> None:
    """Whatever budget the client has, its numbers and statistics come out plain."""
    from dataclasses import dataclass, field  # noqa: PLC0415

    from custom_components.wattwaechter import diagnostics  # noqa: PLC0415
    from custom_components.wattwaechter.api import Priority  # noqa: PLC0415

    @dataclass
    class Stats:
        granted: dict[Priority, int] = field(
            default_factory=lambda: {Priority.METER: 3, Priority.ACTION: 1}
        )
        history: tuple[Priority, ...] = (Priority.METER,)

    class Gate:
        limit = 10
        window = 10.0
        paused_for = 0.0
        stats = Stats()

        def in_window(self) -> int:
            return 4

    assert diagnostics._budget(None) is None
    assert diagnostics._budget(Gate()) == {
        "type": "Gate",
        "limit": 10,
        "window": 10.0,
        "paused_for": 0.0,
        "in_window": 4,
        "stats": {"granted": {"meter": 3, "action": 1}, "history": ["meter"]},
    }
    assert diagnostics._meter(None) is None
    assert diagnostics._system(None) is None
