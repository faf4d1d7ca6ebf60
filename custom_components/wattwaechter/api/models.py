"""Frozen models of the device's JSON, parsed leniently: parsing never raises.

The firmware sends numbers as strings, NaN, missing keys and new keys; what
cannot be read becomes ``None`` (text registers such as a serial stay text).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import math
import re
from typing import Any

_UPTIME_PART = re.compile(r"(\d+)\s*([dhms])", re.IGNORECASE)
_UPTIME_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_NAN_TEXTS = frozenset({"nan", "-nan", "inf", "-inf"})

JsonObject = Mapping[str, Any]


def as_float(value: Any) -> float | None:
    """Return a finite float from a number or a numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """Return an int from a number or a numeric string, else None."""
    number = as_float(value)
    return None if number is None else int(number)


def as_str(value: Any) -> str | None:
    """Return a non-empty string for strings and numbers, else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def as_bool(value: Any) -> bool | None:
    """Return a bool from a JSON bool, 0/1 or "true"/"false", else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_object(value: Any) -> JsonObject:
    """Return the value if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """Return the value if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class ObisValue:
    """One register of ``/history/latest``: a number, a text (serial), or None.

    ``text`` is the value as the device wrote it, for registers shown as text.
    """

    code: str
    value: float | str | None
    unit: str
    name: str
    text: str | None = None

    @classmethod
    def from_json(cls, code: str, data: Any) -> ObisValue:
        """Parse one register."""
        obj = as_object(data)
        raw = obj.get("value")
        value: float | str | None = as_float(raw)
        text = raw.strip() if isinstance(raw, str) else as_str(raw)
        if value is None and text and text.lower() not in _NAN_TEXTS:
            value = text
        return cls(
            code=code,
            value=value,
            unit=as_str(obj.get("unit")) or "",
            name=as_str(obj.get("name")) or "",
            text=text or None,
        )

    @property
    def number(self) -> float | None:
        """Return the value if it is a number."""
        return self.value if isinstance(self.value, float) else None


@dataclass(frozen=True, slots=True)
class MeterReading:
    """``GET /history/latest``: every OBIS register in one response.

    Gas and water devices add ``medium`` and (firmware 1.3+) ``meter_since``:
    when the current meter's count started (its first value or an exchange).
    """

    timestamp: int | None
    values: Mapping[str, ObisValue]
    medium: str | None = None
    meter_since: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> MeterReading:
        """Parse a reading; every key holding an object is a register."""
        obj = as_object(data)
        gw = as_object(obj.get("gw"))
        since = as_int(gw.get("meterSince"))
        return cls(
            timestamp=as_int(obj.get("timestamp")),
            values={
                str(code): ObisValue.from_json(str(code), item)
                for code, item in obj.items()
                if code != "gw" and isinstance(item, Mapping)
            },
            medium=as_str(gw.get("medium")),
            meter_since=since if since is not None and since > 0 else None,
        )


class _Row[T]:
    """A value of one system info row, parsed on access."""

    def __init__(self, section: str, name: str, parse: Callable[[Any], T]) -> None:
        self._section, self._name, self._parse = section, name, parse

    def __get__(self, info: SystemInfo, owner: type[SystemInfo]) -> T:
        return self._parse(info.get(self._section, self._name))


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """``GET /system/info``: sections of ``{name, value, unit}`` rows."""

    sections: Mapping[str, Mapping[str, str]]

    esp_id = _Row("esp", "esp_id", as_str)  # the bare MAC, as the device sends it
    firmware = _Row("esp", "os_version", as_str)
    model_id = _Row("esp", "model_id", as_str)  # newer firmware: ww_plus, ww_gw_mf...
    product_name = _Row("esp", "product_name", as_str)  # newer firmware
    mac_address = _Row("wifi", "mac_address", as_str)
    mdns_name = _Row("wifi", "mdns_name", as_str)
    ip_address = _Row("wifi", "ip_address", as_str)
    ssid = _Row("wifi", "ssid", as_str)
    signal_strength = _Row("wifi", "signal_strength", as_int)  # dBm
    free_heap = _Row("heap", "free_heap", as_int)  # bytes
    uptime = _Row("uptime", "uptime", as_str)  # as the device writes it: "2d 5h 30m"

    @classmethod
    def from_json(cls, data: Any) -> SystemInfo:
        """Parse the sections; values become strings, unreadable rows are skipped."""
        sections: dict[str, dict[str, str]] = {}
        for section, rows in as_object(data).items():
            if not isinstance(rows, list):
                continue
            parsed = sections[str(section)] = {}
            for row in map(as_object, rows):
                name, value = as_str(row.get("name")), as_str(row.get("value"))
                if name is not None and value is not None:
                    parsed[name] = value
        return cls(sections=sections)

    def get(self, section: str, name: str) -> str | None:
        """Return one value, or None."""
        return self.sections.get(section, {}).get(name)

    def is_device(self, device_id: str) -> bool:
        """Return True when this is the device with ``device_id`` (its bare MAC)."""
        wanted = _bare(device_id)
        return wanted != "" and wanted in {
            _bare(self.esp_id or ""),
            _bare(self.mac_address or ""),
        }

    @property
    def uptime_seconds(self) -> int | None:
        """Return the uptime in seconds ("2d 5h 30m", or plain seconds)."""
        text = (self.uptime or "").strip()
        if text.isdigit():
            return int(text)
        parts = _UPTIME_PART.findall(text)
        if not parts or _UPTIME_PART.sub("", text).strip():
            return None
        return sum(int(number) * _UPTIME_UNITS[unit.lower()] for number, unit in parts)


@dataclass(frozen=True, slots=True)
class LedStatus:
    """``GET /system/led``: what the status LED signals (read-only)."""

    status: str | None
    enabled: bool | None
    active: frozenset[str] = frozenset()  # every active status, upper-case

    @classmethod
    def from_json(cls, data: Any) -> LedStatus:
        """Parse the LED status; unknown values are kept as text."""
        obj = as_object(data)
        status = as_str(obj.get("status"))
        raw = obj.get("active_statuses")
        names = (
            [name for name, on in raw.items() if as_bool(on)]
            if isinstance(raw, Mapping)
            else [item for item in as_list(raw) if isinstance(item, str)]
        )
        return cls(
            status=status.upper() if status else None,
            enabled=as_bool(obj.get("enabled")),
            active=frozenset(name.upper() for name in names),
        )

    @property
    def meter_attention(self) -> bool:
        """Return True while the meter waits for the customer (PIN, info mode)."""
        return "METER_ATTENTION" in self.active or self.status == "METER_ATTENTION"


@dataclass(frozen=True, slots=True)
class Settings:
    """``GET /settings``: the fields the integration uses, plus the raw object."""

    led_enable: bool | None
    api_auth_required: bool | None
    device_name: str | None
    timezone: str | None
    language: str | None
    raw: JsonObject = field(repr=False)

    @classmethod
    def from_json(cls, data: Any) -> Settings:
        """Parse the settings."""
        obj = as_object(data)
        return cls(
            led_enable=as_bool(obj.get("ledEnable")),
            api_auth_required=as_bool(obj.get("api_auth_required")),
            device_name=as_str(obj.get("device_name")),
            timezone=as_str(obj.get("timezone")),
            language=as_str(as_object(obj.get("language")).get("active")),
            raw=obj,
        )


@dataclass(frozen=True, slots=True)
class OtaInfo:
    """``GET /ota/check``: what the vendor's update server offers."""

    update_available: bool
    version: str | None
    tag: str | None
    release_date: str | None
    release_note_de: str | None
    release_note_en: str | None
    last_checked: int | None

    @classmethod
    def from_json(cls, data: Any) -> OtaInfo:
        """Parse the OTA check; missing keys and empty strings become None."""
        obj = as_object(as_object(data).get("data"))
        return cls(
            update_available=as_bool(obj.get("update_available")) is True,
            version=as_str(obj.get("version")),
            tag=as_str(obj.get("tag")),
            release_date=as_str(obj.get("release_date")),
            release_note_de=as_str(obj.get("release_note_de")),
            release_note_en=as_str(obj.get("release_note_en")),
            last_checked=as_int(obj.get("last_checked")),
        )


@dataclass(frozen=True, slots=True)
class PendingTokens:
    """``POST /auth/tokens/generate``: tokens that become active on confirm."""

    read_token: str | None
    write_token: str | None

    @classmethod
    def from_json(cls, data: Any) -> PendingTokens:
        """Parse the pending token pair."""
        pending = as_object(as_object(data).get("pending"))
        return cls(
            read_token=as_str(pending.get("token_read")),
            write_token=as_str(pending.get("token_write")),
        )


def _bare(device_id: str) -> str:
    return device_id.replace(":", "").replace("-", "").upper()
