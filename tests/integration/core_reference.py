"""HA core 2026.11 as the parity test needs it: reference files, register table.

Transcribed from core's sensor descriptions (see notes in
tests/fixtures/core_2026_11/README.md): for every OBIS code core knows, the
English name, unit, device class, state class, display precision and whether
the entity is enabled by default.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import re
import sys
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from custom_components.wattwaechter.obis import ObisSensorDescription

ROOT = Path(__file__).parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN = FIXTURES / "golden"
DEVICES: dict[str, Any] = json.loads((GOLDEN / "devices.json").read_text("utf-8"))
EN = json.loads(
    (ROOT / "custom_components/wattwaechter/translations/en.json").read_text("utf-8")
)
DEVICE_CLASS_NAMES = {"power_factor": "Power factor"}
"""HA's names of the device classes that name an entity without a key."""


def _row(
    name: str,
    unit: str | None,
    device_class: str,
    state_class: str,
    precision: int,
    enabled: bool = True,
) -> dict[str, Any]:
    return {
        "original_name": name,
        "unit_of_measurement": unit,
        "device_class": device_class,
        "state_class": state_class,
        "suggested_display_precision": precision,
        "enabled_by_default": enabled,
    }


def _energy(name: str, unit: str = "kWh") -> dict[str, Any]:
    kind = "energy" if unit == "kWh" else "reactive_energy"
    return _row(name, unit, kind, "total_increasing", 2)


def _power(name: str, unit: str = "W", kind: str = "power", **kw: Any) -> Any:
    return _row(name, unit, kind, "measurement", 0, **kw)


def _phases(codes: str, name: str, **kw: Any) -> dict[str, dict[str, Any]]:
    return {
        code: _power(f"{name} L{n}", **kw)
        for n, code in enumerate(codes.split(), start=1)
    }


CORE_REGISTERS: dict[str, dict[str, Any]] = {
    "1.8.0": _energy("Total consumption"),
    "2.8.0": _energy("Total feed-in"),
    "1.8.1": _energy("Consumption tariff 1"),
    "1.8.2": _energy("Consumption tariff 2"),
    "2.8.1": _energy("Feed-in tariff 1"),
    "2.8.2": _energy("Feed-in tariff 2"),
    "16.7.0": _power("Active power"),
    **_phases("36.7.0 56.7.0 76.7.0", "Active power"),
    **_phases("21.7.0 41.7.0 61.7.0", "Active power", enabled=False),
    **_phases("22.7.0 42.7.0 62.7.0", "Power feed-in", enabled=False),
    **{
        code: _row(f"Voltage L{n}", "V", "voltage", "measurement", 1)
        for n, code in enumerate(("32.7.0", "52.7.0", "72.7.0"), start=1)
    },
    **{
        code: _row(f"Current L{n}", "A", "current", "measurement", 2)
        for n, code in enumerate(("31.7.0", "51.7.0", "71.7.0"), start=1)
    },
    "14.7.0": _row("Grid frequency", "Hz", "frequency", "measurement", 2),
    "13.7.0": _row("Power factor", None, "power_factor", "measurement", 3),
    **{
        code: _row(f"Power factor L{n}", None, "power_factor", "measurement", 3)
        for n, code in enumerate(("33.7.0", "53.7.0", "73.7.0"), start=1)
    },
    "1.6.0": _row("Maximum demand", "kW", "power", "measurement", 2),
    "15.8.0": _energy("Absolute energy"),
    "3.8.0": _energy("Reactive energy consumption", "kvarh"),
    "4.8.0": _energy("Reactive energy feed-in", "kvarh"),
    "1.7.0": _power("Power consumption"),
    "2.7.0": _power("Power feed-in"),
    "15.7.0": _power("Absolute power"),
    "3.7.0": _power("Reactive power consumption", "var", "reactive_power"),
    "4.7.0": _power("Reactive power feed-in", "var", "reactive_power"),
    "9.7.0": _power("Apparent power consumption", "VA", "apparent_power"),
    "10.7.0": _power("Apparent power feed-in", "VA", "apparent_power"),
    **{
        f"{q + 4}.8.0": _energy(f"Reactive energy quadrant {roman}", "kvarh")
        for q, roman in enumerate(("I", "II", "III", "IV"), start=1)
    },
    "7-0:3.0.0": _row("Gas consumption", "m³", "gas", "total", 3),
    "7-0:43.0.0": _row("Gas flow rate", "m³/h", "volume_flow_rate", "measurement", 3),
    "7-0:16.7.0": _row("Gas power", "kW", "power", "measurement", 3),
    "8-0:1.0.0": _row("Water consumption", "m³", "water", "total", 3),
    "8-0:2.0.0": _row("Water flow rate", "m³/h", "volume_flow_rate", "measurement", 3),
}


def english_name(description: ObisSensorDescription) -> str:
    """Return the English name HA gives an entity of ``description``."""
    key = description.translation_key
    if key is None:
        return DEVICE_CLASS_NAMES[str(description.device_class)]
    name: str = EN["entity"]["sensor"][key]["name"]
    return name.format(**(description.translation_placeholders or {}))


def _dump_module() -> Any:
    """Load scripts/core_ref_dump.py: the extraction that made the reference."""
    path = ROOT / "scripts" / "core_ref_dump.py"
    spec = importlib.util.spec_from_file_location("core_ref_dump", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("core_ref_dump", module)
    spec.loader.exec_module(module)
    return module


DUMP = _dump_module()


def load(name: str | None) -> Any:
    """Return a golden payload (None for a 204)."""
    return None if name is None else json.loads((GOLDEN / name).read_text("utf-8"))


def meter_payloads(golden: str) -> list[Any]:
    """Return the device's /history/latest payloads, one per update."""
    latest = DEVICES[golden]["endpoints"]["/history/latest"]
    return [load(name) for name in (latest if isinstance(latest, list) else [latest])]


def no_port(text: Any) -> Any:
    """Drop the simulator's port: core's reference host has none."""
    return re.sub(r"(127\.0\.0\.1):\d+", r"\1", text) if isinstance(text, str) else text


def er_ids(hass: HomeAssistant, entry: Any) -> set[str]:
    """Return the unique IDs of the entry's entities now."""
    registry = er.async_get(hass)
    return {
        r.unique_id for r in er.async_entries_for_config_entry(registry, entry.entry_id)
    }


def normalise(record: dict[str, Any]) -> dict[str, Any]:
    """Keep the fields that hold on every HA version; times become markers."""
    attributes = record["attributes"] or {}
    state = record["state"]
    if record["device_class"] == "timestamp" and state not in (
        "unknown",
        "unavailable",
    ):
        state = "<timestamp>"
    device_class = record["device_class"]
    if device_class is None and record["unit_of_measurement"] == "kvarh":
        device_class = "reactive_energy"  # HA 2025.5+ (the snapshot's HA may be older)
    return {
        "entity_id": record["entity_id"],
        "translation_key": record["translation_key"],
        "original_name": record["original_name"],
        "unit": record["unit_of_measurement"],
        "device_class": device_class,
        "state_class": record["state_class"],
        "precision": record["suggested_display_precision"],
        "entity_category": record["entity_category"],
        "enabled_by_default": record["enabled_by_default"],
        "supported_features": record["supported_features"],
        "state": state,
        "last_reset": attributes.get("last_reset"),
        "options": attributes.get("options"),
    }


def core_result(golden: str) -> dict[str, Any]:
    """Return what core 2026.11 made of the golden device."""
    path = FIXTURES / "core_2026_11" / f"{golden}.json"
    result: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return result
