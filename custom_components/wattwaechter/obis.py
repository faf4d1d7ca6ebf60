"""The OBIS register table: what each code the device reports means in HA.

Electricity codes arrive as ``C.D.E`` (``1.8.0``), gas and water ones as
``A-B:C.D.E`` (``7-0:3.0.0``). A code without a table entry is described
from its unit, disabled by default and named as the device names it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass as Device,
    SensorEntityDescription,
    SensorStateClass as State,
)
from homeassistant.const import EntityCategory

from .api.models import ObisValue

IDENTIFIERS = frozenset({"0.0.0", "0.0.1", "0.2.0", "96.1.0", "96.1.1"})
# HA 2025.5 added reactive energy (kvarh) as a device class.
REACTIVE_ENERGY: Device | None = getattr(Device, "REACTIVE_ENERGY", None)

# Unit, device class, state class, precision and the largest plausible
# magnitude of a reading (a household connection; beyond it a misread).
_UNITS: dict[str, tuple[Device | None, State | None, int, float]] = {
    "kWh": (Device.ENERGY, State.TOTAL_INCREASING, 2, 1e9),
    "Wh": (Device.ENERGY, State.TOTAL_INCREASING, 0, 1e12),
    "kvarh": (REACTIVE_ENERGY, State.TOTAL_INCREASING, 2, 1e9),
    "m³": (None, State.TOTAL, 3, 1e9),
    "W": (Device.POWER, State.MEASUREMENT, 0, 100_000),
    "kW": (Device.POWER, State.MEASUREMENT, 3, 100),
    "var": (Device.REACTIVE_POWER, State.MEASUREMENT, 0, 100_000),
    "VA": (Device.APPARENT_POWER, State.MEASUREMENT, 0, 100_000),
    "V": (Device.VOLTAGE, State.MEASUREMENT, 1, 1_000),
    "A": (Device.CURRENT, State.MEASUREMENT, 2, 1_000),
    "Hz": (Device.FREQUENCY, State.MEASUREMENT, 2, 100),
    "m³/h": (Device.VOLUME_FLOW_RATE, State.MEASUREMENT, 3, 100),
    "": (Device.POWER_FACTOR, State.MEASUREMENT, 3, 1),
}
_VOLUME = {"7": Device.GAS, "8": Device.WATER, "9": Device.WATER}


@dataclass(frozen=True, kw_only=True)
class ObisSensorDescription(SensorEntityDescription):
    """A sensor for one OBIS register."""

    limit: float | None = None  # a reading of larger magnitude is a misread
    text: bool = False  # shown as the device writes it (a status code)

    @property
    def is_total(self) -> bool:
        """Return True for a meter total, which the glitch guard watches."""
        return self.state_class in (State.TOTAL, State.TOTAL_INCREASING)


def _known(
    code: str, key: str | None, unit: str, *, enabled: bool = True, **kwargs: Any
) -> ObisSensorDescription:
    device_class, state_class, precision, limit = _UNITS[unit]
    description = ObisSensorDescription(
        key=code,
        translation_key=key,
        native_unit_of_measurement=unit or None,
        device_class=device_class,
        state_class=state_class,
        suggested_display_precision=precision,
        entity_registry_enabled_default=enabled,
        limit=limit,
    )
    return replace(description, **kwargs)  # the entry's own fields


def _phases(
    channel: int, key: str, unit: str, *, enabled: bool = True
) -> list[ObisSensorDescription]:
    """Describe phases L1-L3 of the quantity on ``channel``: C + 20 per phase."""
    return [
        _known(
            f"{channel + 20 * n}.7.0",
            key,
            unit,
            enabled=enabled,
            translation_placeholders={"phase": f"L{n}"},
        )
        for n in (1, 2, 3)
    ]


def _status(code: str, key: str) -> ObisSensorDescription:
    return ObisSensorDescription(
        key=code,
        translation_key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        text=True,
    )


KNOWN_OBIS: dict[str, ObisSensorDescription] = {
    d.key: d
    for d in (
        _known("1.8.0", "import_total", "kWh"),
        _known("2.8.0", "export_total", "kWh"),
        *(_known(f"1.8.{n}", f"import_tariff_{n}", "kWh") for n in range(1, 5)),
        *(_known(f"2.8.{n}", f"export_tariff_{n}", "kWh") for n in range(1, 5)),
        _known("15.8.0", "absolute_energy", "kWh", enabled=False),
        _known("3.8.0", "reactive_energy_import", "kvarh", enabled=False),
        _known("4.8.0", "reactive_energy_export", "kvarh", enabled=False),
        _known("5.8.0", "reactive_energy_quadrant_1", "kvarh", enabled=False),
        _known("6.8.0", "reactive_energy_quadrant_2", "kvarh", enabled=False),
        _known("7.8.0", "reactive_energy_quadrant_3", "kvarh", enabled=False),
        _known("8.8.0", "reactive_energy_quadrant_4", "kvarh", enabled=False),
        _known("16.7.0", "active_power", "W"),
        *_phases(16, "active_power_phase", "W"),
        *_phases(1, "active_power_import_phase", "W", enabled=False),
        *_phases(2, "active_power_export_phase", "W", enabled=False),
        _known("1.7.0", "active_power_import", "W"),
        _known("2.7.0", "active_power_export", "W"),
        _known("15.7.0", "absolute_power", "W", enabled=False),
        _known("1.6.0", "maximum_demand", "kW", suggested_display_precision=2),
        *_phases(12, "voltage_phase", "V"),
        *_phases(11, "current_phase", "A"),
        _known("14.7.0", "frequency", "Hz"),
        _known("13.7.0", None, ""),
        *_phases(13, "power_factor_phase", "", enabled=False),
        _known("3.7.0", "reactive_power_import", "var"),
        _known("4.7.0", "reactive_power_export", "var"),
        _known("9.7.0", "apparent_power_import", "VA"),
        _known("10.7.0", "apparent_power_export", "VA"),
        _known("7-0:3.0.0", "gas_consumption", "m³", device_class=Device.GAS),
        _known("7-0:43.0.0", "gas_flow_rate", "m³/h"),
        _known("7-0:16.7.0", "gas_power", "kW"),
        _known("8-0:1.0.0", "water_consumption", "m³", device_class=Device.WATER),
        _known("8-0:2.0.0", "water_flow_rate", "m³/h"),
        _status("96.5.0", "operating_status"),
        _status("94.91.0", "status_word"),
    )
}


def split_code(code: str) -> tuple[str, list[str]]:
    """Return the medium (value group A, "1" for short codes) and the C.D.E parts."""
    prefix, _, cde = code.rpartition(":")
    return prefix.partition("-")[0] or "1", cde.split(".")


def is_identifier(code: str) -> bool:
    """Return True for a register that only identifies the meter (no entity)."""
    return code.rpartition(":")[2] in IDENTIFIERS


def generic_description(register: ObisValue) -> ObisSensorDescription:
    """Describe a register without a table entry from its unit, as core does.

    Only electricity x.8.y and gas/water m³ registers are totals; one without
    a unit is text without a state class: HA keeps no statistics of a status.
    """
    medium, parts = split_code(register.code)
    unit = "" if isinstance(register.value, str) else register.unit
    units = _UNITS.get(unit) if unit else None
    device_class, state_class, _, limit = units or (None, None, 0, None)
    if unit == "m³":
        device_class = _VOLUME.get(medium)
        state_class = State.TOTAL_INCREASING if device_class else None
    elif state_class is State.TOTAL_INCREASING and not (
        medium == "1" and len(parts) == 3 and parts[1] == "8"
    ):
        device_class = state_class = None  # an energy value that is no total
    return ObisSensorDescription(
        key=register.code,
        name=register.name or f"OBIS {register.code}",
        native_unit_of_measurement=unit or None,
        device_class=device_class,
        state_class=state_class,
        entity_registry_enabled_default=False,
        limit=limit,
        text=not unit,
    )
