"""How registers without a table entry become sensors (statistics must stay right)."""

from __future__ import annotations

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EntityCategory
import pytest

from custom_components.wattwaechter.api import ObisValue
from custom_components.wattwaechter.obis import (
    KNOWN_OBIS,
    REACTIVE_ENERGY,
    generic_description,
    split_code,
)


@pytest.mark.parametrize(
    ("code", "unit", "device_class", "state_class"),
    [
        # Cumulative electricity registers (x.8.y) are totals...
        ("1.8.5", "kWh", SensorDeviceClass.ENERGY, SensorStateClass.TOTAL_INCREASING),
        ("2.8.9", "Wh", SensorDeviceClass.ENERGY, SensorStateClass.TOTAL_INCREASING),
        ("9.8.0", "kvarh", REACTIVE_ENERGY, SensorStateClass.TOTAL_INCREASING),
        # ...other energy registers are not, or statistics would count them up.
        ("1.6.1", "kWh", None, None),
        ("7-0:3.1.0", "m³", SensorDeviceClass.GAS, SensorStateClass.TOTAL_INCREASING),
        ("8-0:1.1.0", "m³", SensorDeviceClass.WATER, SensorStateClass.TOTAL_INCREASING),
        ("6-0:1.0.0", "m³", None, SensorStateClass.MEASUREMENT),
        ("81.7.4", "W", SensorDeviceClass.POWER, SensorStateClass.MEASUREMENT),
        ("32.7.1", "V", SensorDeviceClass.VOLTAGE, SensorStateClass.MEASUREMENT),
        ("96.50.1", "", None, SensorStateClass.MEASUREMENT),
    ],
)
def test_generic_register_classes(
    code: str,
    unit: str,
    device_class: SensorDeviceClass | None,
    state_class: SensorStateClass | None,
) -> None:
    description = generic_description(ObisValue(code, 1.0, unit, "Register"))
    assert description.device_class == device_class
    assert description.state_class == state_class
    assert description.native_unit_of_measurement == (unit or None)
    assert description.name == "Register"
    assert description.entity_registry_enabled_default is False


def test_text_and_identifier_registers_are_diagnostic() -> None:
    for register in (
        ObisValue("96.1.0", "1EMH0012345678", "", ""),
        ObisValue("0.0.0", 0.0, "", "Unbekannt"),
    ):
        description = generic_description(register)
        assert description.entity_category is EntityCategory.DIAGNOSTIC
        assert description.state_class is None
    assert generic_description(ObisValue("96.1.0", "x", "", "")).name == "OBIS 96.1.0"


def test_split_code() -> None:
    assert split_code("1.8.0") == ("1", ["1", "8", "0"])
    assert split_code("7-0:43.0.0") == ("7", ["43", "0", "0"])


def test_energy_table_is_dashboard_ready() -> None:
    for code in ("1.8.0", "2.8.0", "1.8.1", "2.8.2"):
        description = KNOWN_OBIS[code]
        assert description.native_unit_of_measurement == "kWh"
        assert description.device_class == SensorDeviceClass.ENERGY
        assert description.state_class == SensorStateClass.TOTAL_INCREASING
