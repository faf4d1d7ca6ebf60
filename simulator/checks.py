"""Normalisation and validation of ``SimulatorConfig`` (also of JSON changes).

Kept apart from ``config.py`` so the dataclass stays readable; a bad value
fails when the config is made, not at the first request.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from datetime import date
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .faults import normalize_path
from .profiles import MEDIUM_PROFILES, PROFILES, parse_quarter

if TYPE_CHECKING:
    from .config import SimulatorConfig

MEDIA = ("electricity", "gas", "water")
DEVICE_ID_RE = re.compile(r"^[0-9A-F]{12}$")
ALWAYS_PRESENT = frozenset({"/api/v1/history/latest", "/api/v1/system/info"})
"""Endpoints every firmware has; ``missing_endpoints`` cannot remove them."""
_NOT_NEGATIVE = (
    "first_reading_delay",
    "reboot_seconds",
    "ota_download_seconds",
    "timeout_seconds",
    "history_delay",
    "latency",
    "meter_since",
    "meter_replaced_at",
)


def normalize_config(config: SimulatorConfig) -> None:
    """Turn lists into tuples, paths into ``/api/v1/...`` and set a profile's medium."""

    def put(name: str, value: Any) -> None:
        object.__setattr__(config, name, value)

    put("history_gaps", tuple(config.history_gaps))
    put("tariff_schedule", tuple(config.tariff_schedule))
    put("missing_endpoints", tuple(normalize_path(p) for p in config.missing_endpoints))
    if not isinstance(config.payloads, Mapping):
        msg = "payloads must map GET paths to JSON bodies"
        raise TypeError(msg)
    put("payloads", {normalize_path(str(k)): v for k, v in config.payloads.items()})
    if config.profile in MEDIUM_PROFILES and config.medium == "electricity":
        put("medium", config.profile)


def validate(config: SimulatorConfig) -> None:
    """Raise ValueError when ``config`` cannot describe a device."""
    for name in ("device_id", "other_device_id"):
        if not DEVICE_ID_RE.match(getattr(config, name)):
            value = getattr(config, name)
            msg = f"{name} must be 12 upper-case hex digits, got {value!r}"
            raise ValueError(msg)
    if config.medium not in MEDIA:
        msg = f"medium must be one of {MEDIA}, got {config.medium!r}"
        raise ValueError(msg)
    if config.profile not in PROFILES:
        msg = f"profile must be one of {PROFILES}, got {config.profile!r}"
        raise ValueError(msg)
    if config.profile in MEDIUM_PROFILES and config.medium != config.profile:
        msg = f"profile {config.profile!r} needs medium {config.profile!r}"
        raise ValueError(msg)
    if config.profile not in (*MEDIUM_PROFILES, "default") and config.medium != (
        "electricity"
    ):
        msg = f"profile {config.profile!r} is an electricity profile"
        raise ValueError(msg)
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        msg = f"unknown timezone {config.timezone!r}"
        raise ValueError(msg) from err
    if config.rate_limit < 1 or config.rate_window <= 0:
        msg = "rate_limit must be >= 1 and rate_window > 0"
        raise ValueError(msg)
    if not 0 <= config.cotenant_rate < config.rate_limit:
        msg = "cotenant_rate must be >= 0 and below rate_limit"
        raise ValueError(msg)
    if config.history_days < 0:
        msg = "history_days must be >= 0"
        raise ValueError(msg)
    for name in _NOT_NEGATIVE:
        if getattr(config, name) < 0:
            msg = f"{name} must be >= 0"
            raise ValueError(msg)
    for day in config.history_gaps:
        try:
            date.fromisoformat(day)
        except (TypeError, ValueError) as err:
            msg = f"history_gaps must hold YYYY-MM-DD dates, got {day!r}"
            raise ValueError(msg) from err
    if len(config.tariff_schedule) != 2:
        msg = "tariff_schedule must be (tariff 1 start, tariff 2 start)"
        raise ValueError(msg)
    starts = [parse_quarter(text) for text in config.tariff_schedule]
    if starts[0] == starts[1]:
        msg = "tariff_schedule needs two different times"
        raise ValueError(msg)
    kept = ALWAYS_PRESENT.intersection(config.missing_endpoints)
    if kept:
        msg = f"every firmware has {', '.join(sorted(kept))}"
        raise ValueError(msg)


def _check_type(key: str, old: Any, value: Any) -> Any:
    """Return ``value`` fitted to the type of ``old``; TypeError if it does not fit."""
    if key == "advertise_ip":
        if value is not None and not isinstance(value, str):
            msg = "advertise_ip must be a string or null"
            raise TypeError(msg)
    elif isinstance(old, bool):
        if not isinstance(value, bool):
            msg = f"{key} must be a boolean"
            raise TypeError(msg)
    elif isinstance(old, int):
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"{key} must be an integer"
            raise TypeError(msg)
    elif isinstance(old, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            msg = f"{key} must be a number"
            raise TypeError(msg)
        return float(value)
    elif isinstance(old, str) and not isinstance(value, str):
        msg = f"{key} must be a string"
        raise TypeError(msg)
    elif isinstance(old, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            msg = f"{key} must be a list of strings"
            raise TypeError(msg)
        return tuple(value)
    elif isinstance(old, Mapping) and not isinstance(value, dict):
        msg = f"{key} must be an object"
        raise TypeError(msg)
    return value


def coerce_json_changes(
    current: SimulatorConfig, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Check JSON control-endpoint changes against the field types.

    Returns the changes with ints accepted for float fields and lists for
    tuple fields; raises TypeError or ValueError with a readable message.
    """
    from .config import NOT_JSON_CONFIGURABLE  # noqa: PLC0415  # import cycle

    names = {f.name for f in dataclasses.fields(current)}
    result: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in names or key in NOT_JSON_CONFIGURABLE:
            msg = f"field {key!r} cannot be set"
            raise TypeError(msg)
        result[key] = _check_type(key, getattr(current, key), value)
    return result
