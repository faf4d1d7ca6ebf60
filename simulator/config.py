"""Configuration of the WattWächter Plus device simulator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
import re
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MEDIA = ("electricity", "gas", "water")

_DEVICE_ID_RE = re.compile(r"^[0-9A-F]{12}$")

# Fields that cannot be changed through the JSON control endpoint.
NOT_JSON_CONFIGURABLE = frozenset({"clock"})


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that makes one simulated device; every field has a default.

    The object is immutable; change a running simulator with
    ``Simulator.configure(**changes)``.
    """

    device_id: str = "AABBCCDDEEFF"
    """12 upper-case hex digits: the MAC address without separators."""
    model: str = "WW-Plus"
    """Model as advertised in the mDNS TXT record ``model``."""
    model_id: str = "ww_plus"
    """``esp.model_id`` of ``/system/info`` (``ww_gw_mf`` on gas/water)."""
    product_name: str = "WattWächter Plus"
    """``esp.product_name`` of ``/system/info``."""
    medium: str = "electricity"
    """``electricity``, ``gas`` or ``water``."""
    firmware: str = "1.2.3"
    """Firmware version the device boots with."""
    ota_version: str = "1.3.0"
    """Version offered by ``/ota/check``; an OTA installs it."""
    ota_fail: bool = False
    """When set, an OTA comes back on the old version."""
    auth_required: bool = False
    """Initial value of ``settings.api_auth_required``."""
    read_token: str = "READTOKEN1234567"
    """Initial READ token."""
    write_token: str = "WRITETOKEN123456"
    """Initial WRITE token."""
    device_name: str = "WattWaechter"
    """Initial ``settings.device_name``."""
    timezone: str = "Europe/Berlin"
    """Initial ``settings.timezone`` (IANA name)."""
    first_reading_delay: float = 0.0
    """Seconds after boot during which ``/history/latest`` answers 204."""
    reboot_seconds: float = 10.0
    """Seconds the device is offline during a reboot."""
    ota_download_seconds: float = 20.0
    """Seconds an OTA download takes before the device reboots."""
    rate_limit: int = 25
    """Accepted API requests allowed per ``rate_window``."""
    rate_window: float = 10.0
    """Length of the sliding rate-limit window in seconds."""
    history_days: int = 730
    """How long the device has existed; history before that answers 400."""
    seed: int = 1
    """Seed of the deterministic energy model and of generated tokens."""
    clock: Callable[[], float] | None = None
    """Time source (epoch seconds); None means ``time.time()`` at each use."""
    timeout_seconds: float = 30.0
    """How long a request hangs under the ``timeout`` fault."""
    history_delay: float = 0.0
    """Real seconds a history request takes (lets tests overlap requests)."""
    latency: float = 0.0
    """Real seconds every API request travels before the device handles it."""
    max_history_in_flight: int = 2
    """History requests the heap allows at once; one more answers 503."""
    mdns: bool = False
    """Advertise ``_wattwaechter._tcp.local.`` with python-zeroconf."""
    advertise_ip: str | None = None
    """IPv4 address advertised over mDNS and in ``/system/info``."""
    meter_replaced_at: float = 0.0
    """Epoch seconds when a new meter was fitted (0 = never): from then on the
    totals of ``/history/latest`` count from 0. History is not changed."""

    def __post_init__(self) -> None:
        """Validate the values that would otherwise fail late."""
        validate(self)

    def now(self) -> float:
        """Return the simulator time in epoch seconds.

        ``time.time`` is looked up at every call so that freezegun's patching
        moves the simulator clock too.
        """
        if self.clock is not None:
            return self.clock()
        return time.time()

    @property
    def mac(self) -> str:
        """Return the MAC address in colon form, e.g. ``AA:BB:CC:DD:EE:FF``."""
        pairs = [self.device_id[i : i + 2] for i in range(0, 12, 2)]
        return ":".join(pairs)

    @property
    def effective_model_id(self) -> str:
        """Return the model id; gas/water devices default to ``ww_gw_mf``."""
        if self.medium != "electricity" and self.model_id == "ww_plus":
            return "ww_gw_mf"
        return self.model_id

    @property
    def effective_product_name(self) -> str:
        """Return the product name; it follows the medium on gas/water devices."""
        if self.medium != "electricity" and self.product_name == "WattWächter Plus":
            return "WattWächter Gas" if self.medium == "gas" else "WattWächter Wasser"
        return self.product_name

    def replace(self, **changes: Any) -> SimulatorConfig:
        """Return a copy with ``changes`` applied (unknown fields raise)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            msg = f"unknown SimulatorConfig field(s): {', '.join(unknown)}"
            raise TypeError(msg)
        return dataclasses.replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        """Return the JSON-serialisable fields (the clock is left out)."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in NOT_JSON_CONFIGURABLE
        }


def validate(config: SimulatorConfig) -> None:
    """Raise ValueError when ``config`` cannot describe a device."""
    if not _DEVICE_ID_RE.match(config.device_id):
        msg = f"device_id must be 12 upper-case hex digits, got {config.device_id!r}"
        raise ValueError(msg)
    if config.medium not in MEDIA:
        msg = f"medium must be one of {MEDIA}, got {config.medium!r}"
        raise ValueError(msg)
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        msg = f"unknown timezone {config.timezone!r}"
        raise ValueError(msg) from err
    if config.rate_limit < 1 or config.rate_window <= 0:
        msg = "rate_limit must be >= 1 and rate_window > 0"
        raise ValueError(msg)
    if config.history_days < 0:
        msg = "history_days must be >= 0"
        raise ValueError(msg)
    for name in (
        "first_reading_delay",
        "reboot_seconds",
        "ota_download_seconds",
        "timeout_seconds",
        "history_delay",
        "latency",
    ):
        if getattr(config, name) < 0:
            msg = f"{name} must be >= 0"
            raise ValueError(msg)


def coerce_json_changes(
    current: SimulatorConfig, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Check JSON control-endpoint changes against the field types.

    Returns the changes with ints accepted for float fields; raises
    TypeError or ValueError with a readable message otherwise.
    """
    names = {f.name for f in dataclasses.fields(current)}
    result: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in names or key in NOT_JSON_CONFIGURABLE:
            msg = f"field {key!r} cannot be set"
            raise TypeError(msg)
        old = getattr(current, key)
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
            result[key] = float(value)
            continue
        elif isinstance(old, str) and not isinstance(value, str):
            msg = f"{key} must be a string"
            raise TypeError(msg)
        result[key] = value
    return result
