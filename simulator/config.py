"""Configuration of the WattWächter Plus device simulator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass, field
import time
from typing import Any

from .checks import MEDIA, coerce_json_changes, normalize_config, validate
from .profiles import CLOCK_OFF_SECONDS, MEDIUM_PROFILES

# Fields that cannot be changed through the JSON control endpoint.
NOT_JSON_CONFIGURABLE = frozenset({"clock"})

__all__ = ["MEDIA", "NOT_JSON_CONFIGURABLE", "SimulatorConfig", "coerce_json_changes"]


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
    """``electricity``, ``gas`` or ``water`` (the ``gas``/``water`` profiles set it)."""
    profile: str = "default"
    """Household: ``default``, ``no_feed_in``, ``single_phase``, ``import_only``,
    ``gas``, ``water``, ``clock_off`` or ``tariff`` (see ``profiles.py``)."""
    firmware: str = "1.2.3"
    """Firmware version the device boots with (>= 1.3 switches 1.3 behaviour on)."""
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
    cotenant_rate: int = 0
    """Requests another client sends per ``rate_window``, evenly spread: they
    count toward the rate limit but never appear in the request log."""
    history_days: int = 730
    """How long the device has existed; older history has no data."""
    history_gaps: tuple[str, ...] = ()
    """Local days (``YYYY-MM-DD``) the device has no history for."""
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
    totals count from 0, in ``/history/latest`` and in the history."""
    meter_since: float = 0.0
    """``gw.meterSince`` before any exchange (0 = 2025-01-01T00:00Z)."""
    clock_offset: float = 0.0
    """Seconds the meter's reading time is off (``clock_off`` profile: -3 h)."""
    tariff_schedule: tuple[str, str] = ("06:00", "22:00")
    """Local times (quarter hours) when tariff 1 and tariff 2 begin."""
    meter_attention: bool = False
    """LED status ``METER_ATTENTION``: the meter waits for the customer."""
    legacy_firmware: bool = False
    """Leave out the newer ``/system/info`` and ``/settings`` fields."""
    missing_endpoints: tuple[str, ...] = ()
    """GET paths the firmware does not have yet (they answer 404)."""
    other_device: bool = False
    """Another device answers at this address: ``other_device_id``, another meter."""
    other_device_id: str = "0C8B95A1B2C3"
    """Device id (MAC) of the other device."""
    payloads: Mapping[str, Any] = field(default_factory=dict)
    """GET path -> JSON body served instead of the generated one (None = 204)."""

    def __post_init__(self) -> None:
        """Normalise paths and tuples, then validate the values."""
        normalize_config(self)
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
    def identity(self) -> str:
        """Return the device id answering now (``other_device_id`` if switched)."""
        return self.other_device_id if self.other_device else self.device_id

    @property
    def mac(self) -> str:
        """Return the MAC address in colon form, e.g. ``AA:BB:CC:DD:EE:FF``."""
        device_id = self.identity
        return ":".join(device_id[i : i + 2] for i in range(0, 12, 2))

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

    @property
    def meter_clock_offset(self) -> float:
        """Return how many seconds the meter's clock is off."""
        if self.clock_offset == 0 and self.profile == "clock_off":
            return CLOCK_OFF_SECONDS
        return self.clock_offset

    def replace(self, **changes: Any) -> SimulatorConfig:
        """Return a copy with ``changes`` applied (unknown fields raise).

        Switching to a gas/water profile switches the medium too, and
        leaving one switches back to electricity, unless ``medium`` is given.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            msg = f"unknown SimulatorConfig field(s): {', '.join(unknown)}"
            raise TypeError(msg)
        if "profile" in changes and "medium" not in changes:
            new = changes["profile"]
            if new in MEDIUM_PROFILES:
                changes["medium"] = new
            elif self.profile in MEDIUM_PROFILES:
                changes["medium"] = "electricity"
        return dataclasses.replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        """Return the JSON-serialisable fields (the clock is left out)."""
        result: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in NOT_JSON_CONFIGURABLE:
                continue
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            result[f.name] = value
        return result
