"""Lenient parsing of the device's JSON: odd values become None, never an error."""

from __future__ import annotations

from datetime import date
import math
from typing import Any

import pytest

from custom_components.wattwaechter.api import (
    Alive,
    HighResHistory,
    LedStatus,
    LowResHistory,
    MeterReading,
    ModbusStatus,
    MqttStatus,
    ObisValue,
    OtaInfo,
    PendingTokens,
    Settings,
    SystemInfo,
)
from custom_components.wattwaechter.api.models import (
    as_bool,
    as_float,
    as_int,
    as_object,
    as_str,
)

GARBAGE: list[Any] = [None, [], [1, 2], "text", 42, 1.5, True, {"a": 1}]


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
    [
        ("x", "x"),
        ("", None),
        (None, None),
        (False, None),
        (3, "3"),
        (1.5, "1.5"),
        ([], None),
    ],
)
def test_as_str(raw: Any, expected: str | None) -> None:
    assert as_str(raw) == expected


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


def test_as_object() -> None:
    assert as_object({"a": 1}) == {"a": 1}
    assert as_object([1]) == {}
    assert as_object(None) == {}


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
    assert reading.values["1.8.0"].value == 12345.678
    assert reading.values["1.8.0"].number == 12345.678
    assert reading.values["1.8.0"].unit == "kWh"
    assert reading.values["1.8.0"].name == "Bezug"
    assert reading.values["16.7.0"].value is None
    assert reading.values["36.7.0"].value is None
    assert reading.values["32.7.0"].value is None
    serial = reading.values["96.1.0"]
    assert serial.value == "1EMH0012345678"
    assert serial.number is None
    assert reading.values["14.7.0"].value is None
    odd = reading.values["13.7.0"]
    assert (odd.value, odd.unit, odd.name) == (None, "5", "")
    assert "broken" not in reading.values
    assert "gw" not in reading.values
    assert reading.gas_water == {"medium": "gas"}


@pytest.mark.parametrize("garbage", GARBAGE)
def test_meter_reading_garbage(garbage: Any) -> None:
    reading = MeterReading.from_json(garbage)
    assert reading.timestamp is None or isinstance(reading.timestamp, int)
    assert reading.gas_water is None


def test_obis_value_garbage() -> None:
    value = ObisValue.from_json("1.8.0", "garbage")
    assert (value.code, value.value, value.unit, value.name) == ("1.8.0", None, "", "")


SYSTEM_INFO = {
    "uptime": [{"name": "uptime", "value": "2d 5h 30m", "unit": ""}],
    "wifi": [
        {"name": "ssid", "value": "MyNetwork", "unit": ""},
        {"name": "signal_strength", "value": "-45", "unit": "dBm"},
        {"name": "ip_address", "value": "192.168.1.100", "unit": ""},
        {"name": "mac_address", "value": "AA:BB:CC:DD:EE:FF", "unit": ""},
        {"name": "mdns_name", "value": "wattwaechter-aabbccddeeff.local"},
    ],
    "ap": [],
    "esp": [
        {"name": "esp_id", "value": "AABBCCDDEEFF", "unit": ""},
        {"name": "os_version", "value": "1.2.3", "unit": ""},
        {"name": "model_id", "value": "ww_plus"},
        {"name": "product_name", "value": "WattWächter Plus"},
        {"name": "broken"},
        "not a row",
    ],
    "heap": [{"name": "free_heap", "value": 120000, "unit": "bytes"}],
    "odd": "not a list",
}


def test_system_info() -> None:
    info = SystemInfo.from_json(SYSTEM_INFO)
    assert info.esp_id == "AABBCCDDEEFF"
    assert info.firmware == "1.2.3"
    assert info.model_id == "ww_plus"
    assert info.product_name == "WattWächter Plus"
    assert info.mac_address == "AA:BB:CC:DD:EE:FF"
    assert info.mdns_name == "wattwaechter-aabbccddeeff.local"
    assert info.ip_address == "192.168.1.100"
    assert info.ssid == "MyNetwork"
    assert info.signal_strength == -45
    assert info.free_heap == 120000
    assert info.uptime == "2d 5h 30m"
    assert info.get("esp", "broken") is None
    assert "odd" not in info.sections
    assert info.sections["ap"] == {}


@pytest.mark.parametrize("garbage", GARBAGE)
def test_system_info_garbage(garbage: Any) -> None:
    info = SystemInfo.from_json(garbage)
    assert info.esp_id is None
    assert info.signal_strength is None
    assert info.free_heap is None


def test_system_info_string_signal() -> None:
    info = SystemInfo.from_json(
        {"wifi": [{"name": "signal_strength", "value": "strong"}]}
    )
    assert info.signal_strength is None


def test_alive() -> None:
    assert Alive.from_json({"alive": True, "version": "1.0.3"}) == Alive(
        alive=True, version="1.0.3"
    )
    assert Alive.from_json({"alive": "true", "version": 2}) == Alive(True, "2")
    assert Alive.from_json({}) == Alive(alive=False, version=None)
    assert Alive.from_json("garbage") == Alive(alive=False, version=None)


def test_led_status() -> None:
    led = LedStatus.from_json(
        {
            "status": "ok",
            "priority": "1",
            "color": "green",
            "mode": "dimmed",
            "enabled": 1,
        }
    )
    assert led == LedStatus(
        status="OK", enabled=True, color="green", mode="dimmed", priority=1
    )
    assert LedStatus.from_json(None) == LedStatus(None, None, None, None, None)


def test_settings() -> None:
    raw = {
        "ledEnable": True,
        "api_auth_required": "false",
        "device_name": "Keller",
        "timezone": "Europe/Berlin",
        "language": {"active": "de", "installed": []},
        "mqtt": {"enable": False},
    }
    settings = Settings.from_json(raw)
    assert settings.led_enable is True
    assert settings.api_auth_required is False
    assert settings.device_name == "Keller"
    assert settings.timezone == "Europe/Berlin"
    assert settings.language == "de"
    assert settings.raw["mqtt"] == {"enable": False}
    empty = Settings.from_json({"language": "de", "device_name": ""})
    assert empty.language is None
    assert empty.device_name is None
    assert Settings.from_json([1]).raw == {}


def test_ota_info() -> None:
    ota = OtaInfo.from_json(
        {
            "ok": True,
            "data": {
                "update_available": True,
                "version": "1.3.0",
                "tag": "v1.3.0",
                "release_date": "",
                "release_note_de": "Neu",
                "release_note_en": "New",
                "last_checked": "1709913600",
            },
        }
    )
    assert ota.update_available is True
    assert ota.version == "1.3.0"
    assert ota.tag == "v1.3.0"
    assert ota.release_date is None
    assert (ota.release_note_de, ota.release_note_en) == ("Neu", "New")
    assert ota.last_checked == 1709913600
    nothing = OtaInfo.from_json({"data": "garbage"})
    assert nothing.update_available is False
    assert nothing.version is None


def test_high_res_history() -> None:
    history = HighResHistory.from_json(
        {
            "start": "2024-03-08",
            "items": [
                {
                    "date": "2024-03-08T00:00",
                    "timestamp": 1709856000,
                    "import_total_kWh": "12345.0",
                    "export_total_kWh": 4567.0,
                    "import_kW": 0.25,
                    "export_kW": "NaN",
                    "power_W": 1234,
                },
                {"timestamp": 1709856900, "import_total_m3": 42.5},
                {"date": "2024-03-08T00:30", "import_total_kWh": 1},
                "garbage",
            ],
        }
    )
    assert history.start == date(2024, 3, 8)
    assert len(history.items) == 2
    first, gas = history.items
    assert first.timestamp == 1709856000
    assert first.import_total_kwh == 12345.0
    assert first.export_total_kwh == 4567.0
    assert first.import_kw == 0.25
    assert first.export_kw is None
    assert first.power_w == 1234.0
    assert gas.import_total_kwh == 42.5
    assert gas.export_total_kwh is None


def test_low_res_history() -> None:
    history = LowResHistory.from_json(
        {
            "start": "2024-03-01T00:00:00",
            "items": [
                {
                    "date": "2024-03-01",
                    "timestamp": 1709251200,
                    "import_total_kWh": 12340.0,
                    "export_total_kWh": 4560.0,
                    "import_kWh": "8.5",
                    "export_kWh": 2.1,
                },
                {
                    "date": "not a date",
                    "timestamp": "1709337600",
                    "import_total_m3": 10,
                    "import_m3": 0.5,
                },
                {"date": "2024-03-03"},
            ],
        }
    )
    assert history.start == date(2024, 3, 1)
    assert len(history.items) == 2
    first, gas = history.items
    assert first.day == date(2024, 3, 1)
    assert first.import_kwh == 8.5
    assert first.export_kwh == 2.1
    assert gas.day is None
    assert gas.timestamp == 1709337600
    assert (gas.import_total_kwh, gas.import_kwh) == (10.0, 0.5)


@pytest.mark.parametrize("garbage", GARBAGE)
def test_history_garbage(garbage: Any) -> None:
    assert HighResHistory.from_json(garbage).items == ()
    assert LowResHistory.from_json(garbage).start is None


def test_history_items_not_a_list() -> None:
    assert HighResHistory.from_json({"items": None, "start": 5}).items == ()
    assert LowResHistory.from_json({"items": [], "start": None}).items == ()


def test_pending_tokens() -> None:
    tokens = PendingTokens.from_json(
        {
            "success": True,
            "pending": {"token_read": "A1B2C3D4E5F6G7H8", "token_write": "X9Y8"},
            "expires_in": 60,
        }
    )
    assert tokens == PendingTokens("A1B2C3D4E5F6G7H8", "X9Y8", 60)
    assert PendingTokens.from_json({"pending": []}) == PendingTokens(None, None, None)


def test_mqtt_and_modbus_status() -> None:
    mqtt = MqttStatus.from_json(
        {
            "enabled": True,
            "state": "CONNECTED",
            "host": "mqtt.local",
            "last_error_message": "",
        }
    )
    assert mqtt == MqttStatus(True, "CONNECTED", "mqtt.local", None)
    modbus = ModbusStatus.from_json(
        {"enabled": 1, "running": "false", "port": "502", "active_connections": None}
    )
    assert modbus == ModbusStatus(True, False, 502, None)
    assert MqttStatus.from_json(None) == MqttStatus(None, None, None, None)
    assert ModbusStatus.from_json("x") == ModbusStatus(None, None, None, None)


@pytest.mark.parametrize("items", [5, 1.5, True, "abc", {"timestamp": 1}])
def test_history_items_of_wrong_type(items: Any) -> None:
    assert HighResHistory.from_json({"items": items}).items == ()
    assert LowResHistory.from_json({"items": items}).items == ()


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
    """The uptime text becomes seconds; anything else is unknown."""
    info = SystemInfo.from_json(
        {"uptime": [{"name": "uptime", "value": text, "unit": ""}]}
    )
    assert info.uptime_seconds == seconds
