"""How registers become sensors (statistics must stay right)."""

from __future__ import annotations

from homeassistant.components.sensor import (
    SensorDeviceClass as Device,
    SensorStateClass as State,
)
from homeassistant.const import EntityCategory
import pytest

from custom_components.wattwaechter.api.models import ObisValue
from custom_components.wattwaechter.obis import (
    KNOWN_OBIS,
    REACTIVE_ENERGY,
    generic_description,
    is_identifier,
    split_code,
)


@pytest.mark.parametrize(
    ("code", "unit", "device_class", "state_class"),
    [
        # Cumulative electricity registers (x.8.y) are totals...
        ("1.8.5", "kWh", Device.ENERGY, State.TOTAL_INCREASING),
        ("2.8.9", "Wh", Device.ENERGY, State.TOTAL_INCREASING),
        ("9.8.0", "kvarh", REACTIVE_ENERGY, State.TOTAL_INCREASING),
        # ...other energy registers are not, or statistics would count them up.
        ("1.6.1", "kWh", None, None),
        ("7-0:3.1.0", "m³", Device.GAS, State.TOTAL_INCREASING),
        ("8-0:1.1.0", "m³", Device.WATER, State.TOTAL_INCREASING),
        ("6-0:1.0.0", "m³", None, None),  # heat: as core, the unit only
        ("81.7.4", "W", Device.POWER, State.MEASUREMENT),
        ("32.7.1", "V", Device.VOLTAGE, State.MEASUREMENT),
        ("31.7.1", "A", Device.CURRENT, State.MEASUREMENT),
        ("14.7.1", "Hz", Device.FREQUENCY, State.MEASUREMENT),
        ("7-0:43.1.0", "m³/h", Device.VOLUME_FLOW_RATE, State.MEASUREMENT),
    ],
)
def test_generic_register_classes(
    code: str,
    unit: str,
    device_class: Device | None,
    state_class: State | None,
) -> None:
    """Registers without a table entry: classes from the unit, disabled."""
    description = generic_description(ObisValue(code, 1.0, unit, "Register"))
    assert description.device_class == device_class
    assert description.state_class == state_class
    assert description.native_unit_of_measurement == unit
    assert description.name == "Register"
    assert description.entity_registry_enabled_default is False
    assert description.text is False


@pytest.mark.parametrize(
    "register",
    [
        ObisValue("96.50.1", 10203.0, "", "Zustand", text="10203"),
        ObisValue("96.6.1", "0", "", "", text="0"),
        ObisValue("99.1.0", "ready", "", "", text="ready"),
        ObisValue("99.2.0", "on", "W", "", text="on"),
    ],
)
def test_unitless_and_text_registers_are_shown_as_written(
    register: ObisValue,
) -> None:
    """No state class (no statistics of a status code), shown as text."""
    description = generic_description(register)
    assert description.state_class is None
    assert description.device_class is None
    assert description.native_unit_of_measurement is None
    assert description.text is True
    assert description.name == (register.name or f"OBIS {register.code}")


def test_known_status_registers() -> None:
    """96.5.0 and 94.91.0 are translated diagnostics shown as written."""
    for code, key in (("96.5.0", "operating_status"), ("94.91.0", "status_word")):
        description = KNOWN_OBIS[code]
        assert description.translation_key == key
        assert description.entity_category is EntityCategory.DIAGNOSTIC
        assert description.entity_registry_enabled_default is False
        assert description.state_class is None
        assert description.text is True


@pytest.mark.parametrize(
    ("code", "identifier"),
    [
        ("0.0.0", True),
        ("0.0.1", True),
        ("0.2.0", True),
        ("96.1.0", True),
        ("96.1.1", True),
        ("7-0:0.0.0", True),
        ("96.5.0", False),
        ("1.8.0", False),
    ],
)
def test_identifiers_get_no_entity(code: str, identifier: bool) -> None:
    assert is_identifier(code) is identifier


def test_split_code() -> None:
    assert split_code("1.8.0") == ("1", ["1", "8", "0"])
    assert split_code("7-0:43.0.0") == ("7", ["43", "0", "0"])


def test_energy_table_is_dashboard_ready() -> None:
    for code in ("1.8.0", "2.8.0", "1.8.1", "2.8.2", "1.8.3", "2.8.4"):
        description = KNOWN_OBIS[code]
        assert description.native_unit_of_measurement == "kWh"
        assert description.device_class == Device.ENERGY
        assert description.state_class == State.TOTAL_INCREASING
        assert description.is_total
    for code in ("7-0:3.0.0", "8-0:1.0.0"):
        assert KNOWN_OBIS[code].state_class == State.TOTAL  # last_reset: meterSince
    assert KNOWN_OBIS["16.7.0"].native_unit_of_measurement == "W"


def test_every_known_register_has_a_plausible_range() -> None:
    """Misreads beyond a household connection are held back."""
    assert KNOWN_OBIS["16.7.0"].limit == 100_000
    assert KNOWN_OBIS["32.7.0"].limit == 1_000
    for code, description in KNOWN_OBIS.items():
        assert description.limit is not None or description.text, code
