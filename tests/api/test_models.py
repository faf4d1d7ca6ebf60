"""Lenient parsing of the device's JSON: odd values become None, never an error.

The golden payloads (tests/fixtures/golden) are what real devices answered, as
published by HA core's and the vendor's tests: every one parses, with the
values a user would see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
import json
import math
from pathlib import Path
from typing import Any

import pytest

from custom_components.wattwaechter.api.history_items import (
    high_res_items,
    low_res_items,
)
from custom_components.wattwaechter.api.models import (
    LedStatus,
    MeterReading,
    ObisValue,
    OtaInfo,
    PendingTokens,
    Settings,
    SystemInfo,
    as_bool,
    as_float,
    as_int,
    as_list,
    as_object,
    as_str,
)

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"
GARBAGE: list[Any] = [None, [], [1, 2], "text", 42, 1.5, True, {"a": 1}]


# --- the converters ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, 1.0),
        (2.5, 2.5),
        ("12.75", 12.75),
        (" 3 ", 3.0),
        ("-4e2", -400.0),
        ("NaN", None),
        ("nan", None),
        (math.nan, None),
        (math.inf, None),
        ("inf", None),
        ("", None),
        ("12,5", None),
        ("abc", None),
        (True, None),
        (None, None),
        ([1], None),
        ({"value": 1}, None),
        (10**400, None),  # JSON allows integers no float can hold
    ],
)
def test_as_float(raw: Any, expected: float | None) -> None:
    assert as_float(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(7, 7), ("-45", -45), ("120000", 120000), (3.9, 3), ("NaN", None), (None, None)],
)
def test_as_int(raw: Any, expected: int | None) -> None:
    assert as_int(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("x", "x"), ("", None), (None, None), (False, None), (3, "3"), (1.5, "1.5")],
)
def test_as_str(raw: Any, expected: str | None) -> None:
    assert as_str(raw) == expected
    assert as_str([]) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (2, None),
        ("true", True),
        ("FALSE", False),
        ("yes", None),
        (None, None),
    ],
)
def test_as_bool(raw: Any, expected: bool | None) -> None:
    assert as_bool(raw) is expected


def test_as_object_and_list() -> None:
    assert as_object({"a": 1}) == {"a": 1}
    assert as_object([1]) == {}
    assert as_object(None) == {}
    assert as_list([1]) == [1]
    assert as_list({"a": 1}) == []


# --- /history/latest ------------------------------------------------------------------


def test_meter_reading_lenient() -> None:
    reading = MeterReading.from_json(
        {
            "timestamp": "1709913600",
            "1.8.0": {"value": "12345.678", "unit": "kWh", "name": "Bezug"},
            "16.7.0": {"value": "NaN", "unit": "W", "name": "Leistung"},
            "36.7.0": {"value": math.nan, "unit": "W"},
            "32.7.0": {"value": " -inf ", "unit": "V"},
            "96.1.0": {"value": "1EMH0012345678", "unit": "", "name": "Serial"},
            "14.7.0": {"unit": "Hz", "name": "Frequenz"},
            "13.7.0": {"value": [1, 2], "unit": 5, "name": None},
            "broken": "not an object",
            "gw": {"medium": "gas"},
        }
    )
    assert reading.timestamp == 1709913600
    total = reading.values["1.8.0"]
    assert (total.value, total.number, total.unit, total.name) == (
        12345.678,
        12345.678,
        "kWh",
        "Bezug",
    )
    for code in ("16.7.0", "36.7.0", "32.7.0", "14.7.0"):
        assert reading.values[code].value is None, code
        assert reading.values[code].number is None, code
    serial = reading.values["96.1.0"]
    assert serial.value == "1EMH0012345678"
    assert serial.number is None
    odd = reading.values["13.7.0"]
    assert (odd.value, odd.unit, odd.name, odd.text) == (None, "5", "", None)
    assert "broken" not in reading.values
    assert "gw" not in reading.values
    assert reading.medium == "gas"
    assert reading.meter_since is None


@pytest.mark.parametrize(
    ("raw", "value", "text"),
    [
        ("0x0182", "0x0182", "0x0182"),  # a status word stays text
        (386, 386.0, "386"),
        ("00123", 123.0, "00123"),  # a serial keeps its leading zeros as text
        (" 230.1 ", 230.1, "230.1"),
        ("", None, None),
        (None, None, None),
    ],
)
def test_obis_value_text(raw: Any, value: float | str | None, text: str | None) -> None:
    """``text`` is what the device wrote, for registers shown as text."""
    register = ObisValue.from_json("94.91.0", {"value": raw})
    assert register.value == value
    assert register.text == text


def test_obis_value_garbage() -> None:
    value = ObisValue.from_json("1.8.0", "garbage")
    assert (value.code, value.value, value.unit, value.name) == ("1.8.0", None, "", "")


@pytest.mark.parametrize("garbage", GARBAGE)
def test_meter_reading_garbage(garbage: Any) -> None:
    reading = MeterReading.from_json(garbage)
    assert reading.timestamp is None
    assert reading.values == {}
    assert reading.medium is None


@pytest.mark.parametrize(
    ("gw", "medium", "since"),
    [
        ({"medium": "water", "meterSince": 1792800000}, "water", 1792800000),
        ({"medium": "gas", "meterSince": "1792800000"}, "gas", 1792800000),
        ({"medium": "gas", "meterSince": 0}, "gas", None),
        ({"medium": "gas", "meterSince": -5}, "gas", None),
        ({"medium": "gas", "meterSince": "soon"}, "gas", None),
        ({"medium": 3}, "3", None),
        ("not an object", None, None),
    ],
)
def test_gas_water_block(gw: Any, medium: str | None, since: int | None) -> None:
    """The medium, and since when the meter counts (firmware 1.3)."""
    reading = MeterReading.from_json({"timestamp": 1, "gw": gw})
    assert (reading.medium, reading.meter_since) == (medium, since)


# --- the other endpoints --------------------------------------------------------


def test_system_info_core_payload() -> None:
    info = SystemInfo.from_json(load("core/system_info.system_info.json"))
    assert info.esp_id == "ABC123"
    assert info.firmware == "1.2.3"
    assert info.model_id is None
    assert info.mac_address == "AA:BB:CC:DD:EE:FF"
    assert info.mdns_name == "wattwaechter-aabbccddeeff.local"
    assert info.ip_address == "192.168.1.100"
    assert info.ssid == "MyNetwork"
    assert info.signal_strength == -45
    assert info.free_heap == 120000
    assert info.uptime == "2d 5h 30m"
    assert info.uptime_seconds == 2 * 86400 + 5 * 3600 + 30 * 60
    assert info.sections["ap"] == {}


def test_system_info_skips_odd_rows() -> None:
    info = SystemInfo.from_json(
        {
            "esp": [
                {"name": "esp_id", "value": "AABBCCDDEEFF"},
                {"name": "broken"},
                "not a row",
                {"value": "no name"},
            ],
            "heap": [{"name": "free_heap", "value": 120000}],
            "odd": "not a list",
        }
    )
    assert info.sections == {
        "esp": {"esp_id": "AABBCCDDEEFF"},
        "heap": {"free_heap": "120000"},
    }
    assert info.free_heap == 120000


@pytest.mark.parametrize("garbage", GARBAGE)
def test_system_info_garbage(garbage: Any) -> None:
    info = SystemInfo.from_json(garbage)
    assert info.esp_id is None
    assert info.signal_strength is None
    assert info.free_heap is None
    assert info.uptime_seconds is None
    assert not info.is_device("AABBCCDDEEFF")


@pytest.mark.parametrize(
    ("rows", "wanted", "expected"),
    [
        ({"esp": [{"name": "esp_id", "value": "AABBCCDDEEFF"}]}, "aabbccddeeff", True),
        (
            {"wifi": [{"name": "mac_address", "value": "AA:BB:CC:DD:EE:FF"}]},
            "AABBCCDDEEFF",
            True,
        ),
        ({"esp": [{"name": "esp_id", "value": "AABBCCDDEEFF"}]}, "AA-BB-CC", False),
        ({"esp": [{"name": "esp_id", "value": ""}]}, "", False),
    ],
)
def test_is_device(rows: Any, wanted: str, expected: bool) -> None:
    """The device is recognised by its ID or its MAC, in any spelling."""
    assert SystemInfo.from_json(rows).is_device(wanted) is expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2d 5h 30m", 2 * 86400 + 5 * 3600 + 30 * 60),
        ("0d 0h 4m", 240),
        ("12m 5s", 725),
        ("12345", 12345),
        ("", None),
        ("a while", None),
        ("5h and then some", None),
    ],
)
def test_uptime_seconds(text: str, seconds: int | None) -> None:
    info = SystemInfo.from_json({"uptime": [{"name": "uptime", "value": text}]})
    assert info.uptime_seconds == seconds


@pytest.mark.parametrize(
    ("active", "expected"),
    [
        ({"ok": True, "error": False, "meter_attention": 1}, {"OK", "METER_ATTENTION"}),
        (["METER_ATTENTION", "ok", 5], {"METER_ATTENTION", "OK"}),
        ("OK", set()),
        (None, set()),
    ],
    ids=["dict (firmware 1.2)", "list (firmware 1.3)", "text", "missing"],
)
def test_led_active_statuses(active: Any, expected: set[str]) -> None:
    led = LedStatus.from_json({"status": "ok", "enabled": 1, "active_statuses": active})
    assert led.status == "OK"
    assert led.enabled is True
    assert led.active == expected
    assert led.meter_attention is ("METER_ATTENTION" in expected)


def test_led_garbage() -> None:
    assert LedStatus.from_json(None) == LedStatus(None, None, frozenset())
    assert LedStatus.from_json({"status": "meter_attention"}).meter_attention


def test_settings() -> None:
    settings = Settings.from_json(
        {
            "ledEnable": True,
            "api_auth_required": "false",
            "device_name": "Keller",
            "timezone": "Europe/Berlin",
            "language": {"active": "de", "installed": []},
            "mqtt": {"enable": False},
        }
    )
    assert settings.led_enable is True
    assert settings.api_auth_required is False
    assert (settings.device_name, settings.timezone, settings.language) == (
        "Keller",
        "Europe/Berlin",
        "de",
    )
    assert settings.raw["mqtt"] == {"enable": False}
    empty = Settings.from_json({"language": "de", "device_name": ""})
    assert (empty.language, empty.device_name, empty.led_enable) == (None, None, None)
    assert Settings.from_json([1]).raw == {}


def test_ota_info() -> None:
    nothing = OtaInfo.from_json({"data": "garbage"})
    assert nothing.update_available is False
    assert nothing.version is None
    odd = OtaInfo.from_json({"data": {"update_available": "true", "last_checked": "7"}})
    assert (odd.update_available, odd.last_checked) == (True, 7)


def test_history_items_lenient() -> None:
    slots = high_res_items(
        {
            "items": [
                {
                    "timestamp": "1709856000",
                    "import_total_kWh": "12345.0",
                    "export_total_kWh": 4567.0,
                    "import_kW": 0.25,
                    "export_kW": "NaN",
                },
                {"date": "2024-03-08T00:30", "import_total_kWh": 1},
                "garbage",
            ]
        }
    )
    assert len(slots) == 1
    assert slots[0].timestamp == 1709856000
    assert slots[0].import_total_kwh == 12345.0
    assert slots[0].export_kw is None
    days = low_res_items(
        {
            "items": [
                {"date": "not a date", "timestamp": 1709337600, "import_kWh": "0.5"},
                {"date": "2024-03-03T00:00:00", "timestamp": 1709424000},
                {"date": "2024-03-04"},
            ]
        }
    )
    assert [(d.day, d.timestamp) for d in days] == [
        (None, 1709337600),
        (date(2024, 3, 3), 1709424000),
    ]
    assert days[0].import_kwh == 0.5


@pytest.mark.parametrize("garbage", [*GARBAGE, {"items": 5}, {"items": {"a": 1}}])
def test_history_garbage(garbage: Any) -> None:
    assert high_res_items(garbage) == ()
    assert low_res_items(garbage) == ()


def test_pending_tokens_garbage() -> None:
    assert PendingTokens.from_json({"pending": []}) == PendingTokens(None, None)
    assert PendingTokens.from_json(None) == PendingTokens(None, None)


# --- golden payloads of real devices -----------------------------------------------


def load(name: str) -> Any:
    """Return a golden payload."""
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


PARSERS: dict[str, Callable[[Any], Any]] = {
    "system_info": SystemInfo.from_json,
    "system_led": LedStatus.from_json,
    "history_latest": MeterReading.from_json,
    "history_highRes": high_res_items,
    "history_lowRes": low_res_items,
    "settings": Settings.from_json,
    "ota_check": OtaInfo.from_json,
    "post_auth_tokens_generate": PendingTokens.from_json,
}
"""The endpoints the integration reads, by the golden files' first name part."""
NOT_READ = {
    "delete_cloud_pair",
    "delete_mqtt_ca",
    "modbus_status",
    "mqtt_ca",
    "mqtt_status",
    "post_cloud_pair",
    "post_mqtt_ca",
    "post_system_selftest",
    "setup_token",
    "system_alive",
    "system_timezones",
    "system_wifi_scan",
    # Answers the client reads without a model: see test_client.py.
    "post_auth_tokens_confirm",
    "post_ota_start",
    "post_settings",
    "post_system_reboot",
}
GOLDEN_FILES = sorted(str(path.relative_to(GOLDEN)) for path in GOLDEN.glob("*/*.json"))


def test_every_golden_endpoint_is_known() -> None:
    """A new golden file names an endpoint this test either parses or skips."""
    kinds = {Path(name).name.split(".")[0] for name in GOLDEN_FILES}
    assert len(GOLDEN_FILES) >= 50
    assert kinds <= set(PARSERS) | NOT_READ, kinds - set(PARSERS) - NOT_READ


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_payload_parses(name: str) -> None:
    """Every payload a real device sent parses without an error."""
    payload = load(name)
    parser = PARSERS.get(Path(name).name.split(".")[0])
    if parser is not None:
        parser(payload)


def test_golden_core_meter() -> None:
    reading = MeterReading.from_json(load("core/history_latest.meter_data.json"))
    assert reading.timestamp == 1704067200
    assert reading.values["1.8.0"].number == 12345.678
    assert reading.values["2.8.0"].number == 1234.567
    assert reading.values["16.7.0"].number == 1500.5
    assert reading.values["13.7.0"].unit == ""
    assert reading.values["94.91.0"].value == "0x0182"
    assert reading.values["96.5.0"].text == "386"
    serial = reading.values["96.1.0"]
    assert (serial.value, serial.number) == ("0a014845480000123456", None)
    assert reading.values["0.2.0"].number == 10203
    assert len(reading.values) == 19
    assert "datetime" not in reading.values
    minimal = MeterReading.from_json(
        load("core/history_latest.meter_data_minimal.json")
    )
    assert set(minimal.values) == {"1.8.0", "16.7.0"}


def test_golden_vendor_meters() -> None:
    electricity = MeterReading.from_json(
        load("vendor/history_latest.test_meter_data.json")
    )
    assert electricity.values["16.7.0"].number == 1234.0
    assert electricity.values["0.0.0"].text == "0"
    assert electricity.medium is None

    gas = MeterReading.from_json(load("vendor/history_latest.test_meter_data_gas.json"))
    assert gas.medium == "gas"
    assert gas.values["7-0:3.0.0"].number == 1234.567
    assert gas.values["7-0:3.0.0"].unit == "m³"
    assert gas.values["7-0:43.0.0"].unit == "m³/h"
    assert gas.meter_since is None

    since = MeterReading.from_json(
        load("vendor/history_latest.test_meter_data_meter_since.json")
    )
    assert (since.medium, since.meter_since) == ("gas", 1792800000)
    assert since.values["7-0:3.0.0"].number == 12.5

    water = MeterReading.from_json(
        load("vendor/history_latest.test_meter_data_water_without_gw_block.json")
    )
    assert water.medium is None
    assert water.values["8-0:1.0.0"].number == 55.5

    steam = MeterReading.from_json(
        load("vendor/history_latest.test_meter_data_gw_block_wins.2.json")
    )
    assert steam.medium == "steam"
    bare = MeterReading.from_json(
        load("vendor/history_latest.test_meter_data_electricity_medium.json")
    )
    assert bare.timestamp is None
    assert bare.values["1.8.0"].number == 1.0
    empty = MeterReading.from_json(
        load("vendor/history_latest.test_meter_data_without_meter_since.json")
    )
    assert (empty.timestamp, empty.values, empty.meter_since) == (1, {}, None)


def test_golden_led() -> None:
    ok = LedStatus.from_json(load("vendor/system_led.test_led.json"))
    assert (ok.status, ok.enabled, ok.active, ok.meter_attention) == (
        "OK",
        True,
        frozenset({"OK"}),
        False,
    )
    attention = LedStatus.from_json(
        load("vendor/system_led.test_led_meter_attention.json")
    )
    assert attention.active == {"METER_ATTENTION"}
    assert attention.meter_attention


def test_golden_system_info() -> None:
    gas = SystemInfo.from_json(
        load("vendor/system_info.test_system_info_model_accessors.json")
    )
    assert (gas.esp_id, gas.model_id, gas.product_name, gas.firmware) == (
        "9BFEFF453AB4",
        "ww_gw_mf",
        "WattWächter Gas",
        "2.0.0",
    )
    assert gas.is_device("9B:FE:FF:45:3A:B4")
    legacy = SystemInfo.from_json(
        load("vendor/system_info.test_system_info_legacy_without_model.json")
    )
    assert (legacy.esp_id, legacy.model_id) == ("ABC", None)
    vendor = SystemInfo.from_json(load("vendor/system_info.test_system_info.json"))
    # Row names the firmware does not use: nothing is guessed from them.
    assert (vendor.signal_strength, vendor.free_heap, vendor.uptime) == (
        None,
        None,
        None,
    )
    assert vendor.get("esp", "Chip") == "ESP32-S3"


def test_golden_settings_ota_tokens() -> None:
    settings = Settings.from_json(load("vendor/settings.test_settings.json"))
    assert (settings.led_enable, settings.api_auth_required) == (True, True)
    assert (settings.device_name, settings.timezone, settings.language) == (
        "WattWaechter",
        "Europe/Berlin",
        "de",
    )
    core = Settings.from_json(load("core/settings.derived_conftest.json"))
    assert (core.device_name, core.led_enable, core.api_auth_required) == (
        "Haushalt Test",
        None,
        None,
    )

    ota = OtaInfo.from_json(load("vendor/ota_check.test_ota_check.json"))
    assert (ota.update_available, ota.version, ota.tag) == (True, "1.2.0", "stable")
    assert (ota.release_date, ota.release_note_en) == ("2025-03-01", "Bug fixes")
    assert ota.last_checked == 1709913600
    none = OtaInfo.from_json(load("vendor/ota_check.test_ota_check_no_update.json"))
    assert (none.update_available, none.version, none.release_note_de) == (
        False,
        None,
        None,
    )
    tokens = PendingTokens.from_json(
        load("vendor/post_auth_tokens_generate.test_generate_tokens.json")
    )
    assert tokens == PendingTokens("A1B2C3D4E5F6G7H8", "X9Y8Z7W6V5U4T3S2")


def test_golden_history() -> None:
    (slot,) = high_res_items(load("vendor/history_highRes.test_history_high_res.json"))
    assert (slot.timestamp, slot.import_total_kwh, slot.export_total_kwh) == (
        1709856000,
        12345.0,
        4567.0,
    )
    assert (slot.import_kw, slot.export_kw) == (0.25, 0.0)
    gas = high_res_items(load("vendor/history_highRes.test_history_high_res_gw.json"))
    # Gas and water history has no kWh: the import leaves such devices out.
    assert [s.import_total_kwh for s in gas] == [None, None]
    days = low_res_items(load("vendor/history_lowRes.test_history_low_res.json"))
    assert [(d.day, d.import_kwh, d.export_kwh) for d in days] == [
        (date(2024, 3, 1), 8.5, 2.1),
        (date(2024, 3, 2), 7.0, 1.5),
    ]
    assert days[1].import_total_kwh == 12348.5
