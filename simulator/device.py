"""State and behaviour of the simulated device (no HTTP in here).

Every time-driven transition (reboot, OTA download and flashing, first
reading, token expiry) is evaluated lazily against the simulator clock by
``Device.advance()``, so a test that moves the clock sees the device in the
right phase at its next request.
"""

from __future__ import annotations

from collections.abc import Iterable
import math
import random
import string
from typing import Any
from zoneinfo import ZoneInfo

from .config import SimulatorConfig
from .counter import Counter, MeterEvent, Registers
from .meter import EPOCH0, MeterModel
from .profiles import feeds_in
from .ratelimit import SlidingWindow
from .settings import default_modbus, default_settings
from .state import DeviceState, PendingTokens, Phase, TokenLevel
from .status import at_least, led_body, system_info_body, uptime_text
from .tariff import TariffSplit

__all__ = ["Device", "DeviceState", "PendingTokens", "Phase", "TokenLevel"]

TOKEN_LENGTH = 16
TOKEN_ALPHABET = string.ascii_uppercase + string.digits
PENDING_TOKEN_SECONDS = 60
"""How long generated tokens wait for their confirmation."""


class Device:
    """The simulated WattWächter: config, state, meter model and clock."""

    def __init__(self, config: SimulatorConfig) -> None:
        """Create a device that booted at the current simulator time."""
        self.config = config
        self.model = make_model(config)
        self.rate_window = SlidingWindow()
        self.history_in_flight = 0
        self._token_rng = random.Random(f"tokens:{config.seed}:{config.device_id}")
        self.state = DeviceState(
            settings=default_settings(config),
            modbus=default_modbus(),
            firmware=config.firmware,
            read_token=config.read_token,
            write_token=config.write_token,
            boot_time=config.now(),
        )

    # --- clock and life cycle -------------------------------------------

    def now(self) -> float:
        """Return the simulator time."""
        return self.config.now()

    def advance(self) -> None:
        """Apply the time-driven transitions up to now."""
        now = self.now()
        state = self.state
        if state.ota_download_until is not None and now >= state.ota_download_until:
            flashed_at = state.ota_download_until
            state.ota_download_until = None
            state.offline_until = flashed_at + self.config.reboot_seconds
        if state.offline_until is not None and now >= state.offline_until:
            self._boot(state.offline_until)
        if state.pending_tokens is not None and now > state.pending_tokens.expires_at:
            state.pending_tokens = None

    def _boot(self, at: float) -> None:
        """Come back from a reboot at time ``at``."""
        state = self.state
        state.offline_until = None
        if state.ota_target is not None:
            if not self.config.ota_fail:
                state.firmware = state.ota_target
            state.ota_target = None
        state.boot_time = at
        state.boots += 1
        state.pending_tokens = None
        state.wifi_scan_until = None
        settings = state.settings
        settings["rebootCounter"] += 1
        settings["rebootsTotal"] += 1
        settings["rebootsAll"] += 1
        self.rate_window.reset()

    @property
    def phase(self) -> Phase:
        """Return the life-cycle phase (call ``advance()`` first)."""
        if self.state.offline_until is not None:
            return Phase.OFFLINE
        if self.state.ota_download_until is not None:
            return Phase.OTA_DOWNLOADING
        return Phase.ONLINE

    def uptime(self) -> float:
        """Return seconds since the last boot (never negative)."""
        return max(0.0, self.now() - self.state.boot_time)

    def in_first_reading_window(self) -> bool:
        """Return True while the meter has delivered no reading since boot."""
        return self.uptime() < self.config.first_reading_delay

    def reboot(self) -> None:
        """Start a reboot now; the device is offline for ``reboot_seconds``."""
        self.state.offline_until = self.now() + self.config.reboot_seconds

    def timezone(self) -> ZoneInfo:
        """Return the configured local time zone (``settings.timezone``)."""
        return ZoneInfo(self.state.settings["timezone"])

    def apply_config(self, new: SimulatorConfig, changed: Iterable[str]) -> None:
        """Mirror run-time config changes (field names ``changed``) into the state.

        A mirrored field given to ``configure()`` always wins, even when the
        device changed its copy since (e.g. auth switched by ``POST /settings``).
        """
        self.config = new
        state = self.state
        changed = set(changed)
        if "auth_required" in changed:
            state.settings["api_auth_required"] = new.auth_required
        if "read_token" in changed:
            state.read_token = new.read_token
        if "write_token" in changed:
            state.write_token = new.write_token
        if "device_name" in changed:
            state.settings["device_name"] = new.device_name
        if "timezone" in changed:
            state.settings["timezone"] = new.timezone
        if "firmware" in changed:
            state.firmware = new.firmware
        if changed & {"medium", "seed", "profile", "other_device"}:
            self.model = make_model(new)

    # --- meter ---------------------------------------------------------------

    def counter(self) -> Counter:
        """Return the displayed registers (exchanges and corrections applied)."""
        config = self.config
        tariff = None
        if config.profile == "tariff":
            tariff = TariffSplit(self.model, self.timezone(), config.tariff_schedule)
        events = list(self.state.meter_events)
        if config.meter_replaced_at > 0:
            zero = Registers(0, 0, 0 if tariff is not None else None)
            events.append(MeterEvent(config.meter_replaced_at, zero, exchange=True))
        return Counter(self.model, tariff, events, config.meter_since or EPOCH0)

    def set_registers(
        self, at: float, imp: float, exp: float | None, *, exchange: bool
    ) -> None:
        """Set the displayed import (and export) in kWh/m³ at ``at``."""
        now = self.counter().reading(at)
        imp_units = round(imp * 1000)
        exp_units = now.exp if exp is None else round(exp * 1000)
        t1 = None
        if now.t1 is not None:
            t1 = imp_units if exchange else min(now.t1, imp_units)
        event = MeterEvent(at, Registers(imp_units, exp_units, t1), exchange)
        self.state.meter_events.append(event)

    # --- authentication -------------------------------------------------

    @property
    def auth_required(self) -> bool:
        """Return ``settings.api_auth_required``."""
        return bool(self.state.settings["api_auth_required"])

    def token_level(self, authorization: str | None) -> TokenLevel:
        """Classify an ``Authorization`` header value."""
        if authorization is None or not authorization.strip():
            return TokenLevel.NONE
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return TokenLevel.INVALID
        if token == self.state.write_token:
            return TokenLevel.WRITE
        if token == self.state.read_token:
            return TokenLevel.READ
        return TokenLevel.INVALID

    def _new_token(self) -> str:
        """Return a fresh 16-character upper-case alphanumeric token."""
        return "".join(
            self._token_rng.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH)
        )

    def generate_tokens(self) -> PendingTokens:
        """Create pending tokens that must be confirmed within 60 s."""
        pending = PendingTokens(
            token_read=self._new_token(),
            token_write=self._new_token(),
            expires_at=self.now() + PENDING_TOKEN_SECONDS,
        )
        self.state.pending_tokens = pending
        return pending

    def confirm_tokens(self, new_write_token: object) -> str | None:
        """Activate the pending tokens; return an error message on failure."""
        pending = self.state.pending_tokens
        if pending is None or self.now() > pending.expires_at:
            self.state.pending_tokens = None
            return "No pending tokens or tokens expired"
        if new_write_token != pending.token_write:
            return "Token mismatch"
        self.state.read_token = pending.token_read
        self.state.write_token = pending.token_write
        self.state.pending_tokens = None
        return None

    # --- OTA --------------------------------------------------------------

    def update_available(self) -> bool:
        """Return True when ``ota_version`` differs from the running firmware."""
        return self.config.ota_version != self.state.firmware

    def ota_check(self) -> dict[str, Any]:
        """Return the ``/ota/check`` body."""
        if not self.update_available():
            return {"ok": True, "data": {"update_available": False}}
        version = self.config.ota_version
        return {
            "ok": True,
            "data": {
                "update_available": True,
                "version": version,
                "tag": "stable",
                "release_date": "2026-01-15",
                "release_note_de": (
                    f"Version {version}: Fehlerbehebungen und Verbesserungen"
                ),
                "release_note_en": f"Version {version}: bug fixes and improvements",
                # The firmware never sends url/md5 (client 1.2 changelog).
                "last_checked": math.floor(self.now()),
            },
        }

    def start_ota(self) -> dict[str, Any]:
        """Start an OTA update; return the ``/ota/start`` body.

        Firmware 1.3 answers ``ok`` with ``update_available: false`` when
        there is nothing to install; older firmware answers ``ok: false``.
        """
        if self.phase is Phase.OTA_DOWNLOADING:
            return {"ok": False, "msg": "OTA already running"}
        if not self.update_available():
            if self.firmware_at_least(1, 3):
                return {"ok": True, "update_available": False}
            return {"ok": False, "msg": "No update available"}
        version = self.config.ota_version
        self.state.ota_target = version
        self.state.ota_download_until = self.now() + self.config.ota_download_seconds
        self.state.ota_attempts += 1
        return {
            "ok": True,
            "msg": "OTA started",
            "update_available": True,
            "version": version,
            "rebooting": True,
        }

    # --- LED and system info ---------------------------------------------

    def firmware_at_least(self, *wanted: int) -> bool:
        """Return True when the running firmware is ``wanted`` or newer."""
        return at_least(self.state.firmware, wanted)

    def led(self) -> dict[str, Any]:
        """Return the ``/system/led`` body."""
        return led_body(self)

    def uptime_text(self) -> str:
        """Return the uptime as the firmware prints it, e.g. ``2d 5h 30m``."""
        return uptime_text(self.uptime())

    def system_info(self, ip_address: str) -> dict[str, Any]:
        """Return the ``/system/info`` body."""
        return system_info_body(self, ip_address)


def make_model(config: SimulatorConfig) -> MeterModel:
    """Return the energy model of the household ``config`` describes."""
    return MeterModel(
        config.medium,
        config.seed,
        feed_in=feeds_in(config.profile),
        other=config.other_device,
    )
