"""The OBIS register table: what each code the device reports means in HA.

Electricity registers arrive in short ``C.D.E`` form (``1.8.0``), gas and water
registers in full ``A-B:C.D.E`` form (``7-0:3.0.0``). Known codes get a
description with translation key, unit, classes and precision; unknown codes
get one inferred from their unit (see ``generic_description``).
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactivePower,
    UnitOfVolume,
    UnitOfVolumeFlowRate,
)

from .api import ObisValue

# HA 2025.5 added UnitOfReactiveEnergy; the string is the same on every version.
KVARH = "kvarh"
# Reactive energy has its own device class from HA 2025.5 on; older versions
# show those registers without one.
REACTIVE_ENERGY: SensorDeviceClass | None = getattr(
    SensorDeviceClass, "REACTIVE_ENERGY", None
)
MEASUREMENT = SensorStateClass.MEASUREMENT
TOTAL_INCREASING = SensorStateClass.TOTAL_INCREASING
PHASES = ("L1", "L2", "L3")


@dataclass(frozen=True, kw_only=True)
class ObisSensorDescription(SensorEntityDescription):
    """A sensor for one OBIS register."""

    is_energy_total: bool = False


def _energy(code: str, key: str, *, enabled: bool = True) -> ObisSensorDescription:
    return ObisSensorDescription(
        key=code,
        translation_key=key,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        device_class=SensorDeviceClass.ENERGY,
        state_class=TOTAL_INCREASING,
        suggested_display_precision=2,
        entity_registry_enabled_default=enabled,
        is_energy_total=True,
    )


def _reactive_energy(code: str, key: str) -> ObisSensorDescription:
    return ObisSensorDescription(
        key=code,
        translation_key=key,
        native_unit_of_measurement=KVARH,
        device_class=REACTIVE_ENERGY,
        state_class=TOTAL_INCREASING,
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
    )


def _measurement(
    code: str,
    key: str | None,
    unit: str | None,
    device_class: SensorDeviceClass | None,
    precision: int,
    *,
    phase: str | None = None,
    enabled: bool = True,
) -> ObisSensorDescription:
    return ObisSensorDescription(
        key=code,
        translation_key=key,
        translation_placeholders={"phase": phase} if phase else None,
        native_unit_of_measurement=unit,
        device_class=device_class,
        state_class=MEASUREMENT,
        suggested_display_precision=precision,
        entity_registry_enabled_default=enabled,
    )


def _phased(
    codes: tuple[str, str, str],
    key: str,
    unit: str | None,
    device_class: SensorDeviceClass,
    precision: int,
    *,
    enabled: bool = True,
) -> list[ObisSensorDescription]:
    return [
        _measurement(
            code, key, unit, device_class, precision, phase=phase, enabled=enabled
        )
        for code, phase in zip(codes, PHASES, strict=True)
    ]


W = UnitOfPower.WATT
POWER = SensorDeviceClass.POWER

_DESCRIPTIONS: list[ObisSensorDescription] = [
    _energy("1.8.0", "import_total"),
    _energy("2.8.0", "export_total"),
    *(_energy(f"1.8.{n}", f"import_tariff_{n}") for n in (1, 2, 3, 4)),
    *(_energy(f"2.8.{n}", f"export_tariff_{n}") for n in (1, 2, 3, 4)),
    _energy("15.8.0", "absolute_energy", enabled=False),
    _reactive_energy("3.8.0", "reactive_energy_import"),
    _reactive_energy("4.8.0", "reactive_energy_export"),
    *(
        _reactive_energy(f"{q + 4}.8.0", f"reactive_energy_quadrant_{q}")
        for q in (1, 2, 3, 4)
    ),
    _measurement("16.7.0", "active_power", W, POWER, 0),
    *_phased(("36.7.0", "56.7.0", "76.7.0"), "active_power_phase", W, POWER, 0),
    *_phased(("21.7.0", "41.7.0", "61.7.0"), "import_power_phase", W, POWER, 0),
    *_phased(("22.7.0", "42.7.0", "62.7.0"), "export_power_phase", W, POWER, 0),
    _measurement("1.7.0", "import_power", W, POWER, 0),
    _measurement("2.7.0", "export_power", W, POWER, 0),
    _measurement("15.7.0", "absolute_power", W, POWER, 0, enabled=False),
    _measurement("1.6.0", "maximum_demand", UnitOfPower.KILO_WATT, POWER, 3),
    *_phased(
        ("32.7.0", "52.7.0", "72.7.0"),
        "voltage_phase",
        UnitOfElectricPotential.VOLT,
        SensorDeviceClass.VOLTAGE,
        1,
    ),
    *_phased(
        ("31.7.0", "51.7.0", "71.7.0"),
        "current_phase",
        UnitOfElectricCurrent.AMPERE,
        SensorDeviceClass.CURRENT,
        2,
    ),
    _measurement(
        "14.7.0", "frequency", UnitOfFrequency.HERTZ, SensorDeviceClass.FREQUENCY, 2
    ),
    _measurement("13.7.0", "power_factor", None, SensorDeviceClass.POWER_FACTOR, 3),
    *_phased(
        ("33.7.0", "53.7.0", "73.7.0"),
        "power_factor_phase",
        None,
        SensorDeviceClass.POWER_FACTOR,
        3,
        enabled=False,
    ),
    _measurement(
        "3.7.0",
        "reactive_power_import",
        UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        SensorDeviceClass.REACTIVE_POWER,
        0,
    ),
    _measurement(
        "4.7.0",
        "reactive_power_export",
        UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        SensorDeviceClass.REACTIVE_POWER,
        0,
    ),
    _measurement(
        "9.7.0",
        "apparent_power_import",
        UnitOfApparentPower.VOLT_AMPERE,
        SensorDeviceClass.APPARENT_POWER,
        0,
    ),
    _measurement(
        "10.7.0",
        "apparent_power_export",
        UnitOfApparentPower.VOLT_AMPERE,
        SensorDeviceClass.APPARENT_POWER,
        0,
    ),
    # Gas (medium 7) and water (medium 8) meters of the WattWächter Gas/Wasser.
    ObisSensorDescription(
        key="7-0:3.0.0",
        translation_key="gas_consumption",
        native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
        device_class=SensorDeviceClass.GAS,
        state_class=TOTAL_INCREASING,
        suggested_display_precision=3,
        is_energy_total=True,
    ),
    _measurement(
        "7-0:43.0.0",
        "gas_flow_rate",
        UnitOfVolumeFlowRate.CUBIC_METERS_PER_HOUR,
        SensorDeviceClass.VOLUME_FLOW_RATE,
        3,
    ),
    _measurement("7-0:16.7.0", "gas_power", UnitOfPower.KILO_WATT, POWER, 3),
    ObisSensorDescription(
        key="8-0:1.0.0",
        translation_key="water_consumption",
        native_unit_of_measurement=UnitOfVolume.CUBIC_METERS,
        device_class=SensorDeviceClass.WATER,
        state_class=TOTAL_INCREASING,
        suggested_display_precision=3,
        is_energy_total=True,
    ),
    _measurement(
        "8-0:2.0.0",
        "water_flow_rate",
        UnitOfVolumeFlowRate.CUBIC_METERS_PER_HOUR,
        SensorDeviceClass.VOLUME_FLOW_RATE,
        3,
    ),
]

KNOWN_OBIS: dict[str, ObisSensorDescription] = {d.key: d for d in _DESCRIPTIONS}

# Identifier registers: meter address, firmware revision, serial number. They
# are kept as disabled diagnostic sensors and redacted in diagnostics.
IDENTIFIER_OBIS = frozenset({"0.0.0", "0.0.1", "0.2.0", "96.1.0", "96.1.1"})

_UNIT_CLASSES: dict[str, tuple[SensorDeviceClass, SensorStateClass]] = {
    UnitOfPower.WATT: (POWER, MEASUREMENT),
    UnitOfPower.KILO_WATT: (POWER, MEASUREMENT),
    UnitOfElectricPotential.VOLT: (SensorDeviceClass.VOLTAGE, MEASUREMENT),
    UnitOfElectricCurrent.AMPERE: (SensorDeviceClass.CURRENT, MEASUREMENT),
    UnitOfFrequency.HERTZ: (SensorDeviceClass.FREQUENCY, MEASUREMENT),
    UnitOfReactivePower.VOLT_AMPERE_REACTIVE: (
        SensorDeviceClass.REACTIVE_POWER,
        MEASUREMENT,
    ),
    UnitOfApparentPower.VOLT_AMPERE: (SensorDeviceClass.APPARENT_POWER, MEASUREMENT),
    UnitOfVolumeFlowRate.CUBIC_METERS_PER_HOUR: (
        SensorDeviceClass.VOLUME_FLOW_RATE,
        MEASUREMENT,
    ),
}
_CUMULATIVE_UNITS: dict[str, SensorDeviceClass | None] = {
    UnitOfEnergy.KILO_WATT_HOUR: SensorDeviceClass.ENERGY,
    UnitOfEnergy.WATT_HOUR: SensorDeviceClass.ENERGY,
    KVARH: REACTIVE_ENERGY,
}
_VOLUME_BY_MEDIUM = {
    "7": SensorDeviceClass.GAS,
    "8": SensorDeviceClass.WATER,
    "9": SensorDeviceClass.WATER,
}


def split_code(code: str) -> tuple[str, list[str]]:
    """Return the medium (value group A, "1" for short codes) and the C.D.E parts."""
    if ":" in code:
        prefix, code = code.split(":", 1)
        return prefix.partition("-")[0], code.split(".")
    return "1", code.split(".")


def generic_description(register: ObisValue) -> ObisSensorDescription:
    """Describe a register without a table entry from its unit.

    Only electricity x.8.y registers are cumulative; other kWh registers (such
    as a maximum demand) must not become totals, or statistics go wrong.
    """
    code = register.code
    name = register.name or f"OBIS {code}"
    if code in IDENTIFIER_OBIS or isinstance(register.value, str):
        return ObisSensorDescription(
            key=code,
            name=name,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
        )
    medium, parts = split_code(code)
    unit = register.unit
    device_class: SensorDeviceClass | None = None
    state_class: SensorStateClass | None = MEASUREMENT
    if (
        unit in _CUMULATIVE_UNITS
        and medium == "1"
        and len(parts) == 3
        and parts[1] == "8"
    ):
        device_class, state_class = _CUMULATIVE_UNITS[unit], TOTAL_INCREASING
    elif unit == UnitOfVolume.CUBIC_METERS and medium in _VOLUME_BY_MEDIUM:
        device_class, state_class = _VOLUME_BY_MEDIUM[medium], TOTAL_INCREASING
    elif unit in _UNIT_CLASSES:
        device_class, state_class = _UNIT_CLASSES[unit]
    elif unit in _CUMULATIVE_UNITS:
        state_class = None  # an energy value that is not a running total
    return ObisSensorDescription(
        key=code,
        name=name,
        native_unit_of_measurement=unit or None,
        device_class=device_class,
        state_class=state_class,
        entity_registry_enabled_default=False,
    )
