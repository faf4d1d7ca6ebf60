"""The ``GET /_sim/state`` body: everything a test or a person may want to see."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .meter import to_kilo

if TYPE_CHECKING:
    from .core import Simulator


def summary(sim: Simulator) -> dict[str, Any]:
    """Return the state of ``sim`` as JSON-serialisable data."""
    device = sim.device
    device.advance()
    state = device.state
    now = device.now()
    config = sim.config
    counter = device.counter()
    shown = counter.reading(now)
    if config.medium == "electricity":
        counters: dict[str, float] = {
            "import_kWh": to_kilo(shown.imp),
            "export_kWh": to_kilo(shown.exp),
        }
        if shown.t1 is not None:
            counters["tariff1_kWh"] = to_kilo(shown.t1)
            counters["tariff2_kWh"] = to_kilo(shown.imp - shown.t1)
    else:
        counters = {"volume_m3": to_kilo(shown.imp)}
    pending = state.pending_tokens
    return {
        "now": now,
        "url": sim.url,
        "device_id": config.identity,
        "other_device": config.other_device,
        "medium": config.medium,
        "profile": config.profile,
        "firmware": state.firmware,
        "phase": str(device.phase),
        "uptime_s": math.floor(device.uptime()),
        "uptime": device.uptime_text(),
        "boot_time": state.boot_time,
        "boots": state.boots,
        "first_reading_pending": device.in_first_reading_window(),
        "ota": {
            "update_available": device.update_available(),
            "offered_version": config.ota_version,
            "target": state.ota_target,
            "download_until": state.ota_download_until,
            "offline_until": state.offline_until,
            "attempts": state.ota_attempts,
        },
        "faults": sim.faults.as_json(),
        "fault_counts": sim.faults.remaining(),
        "frozen_at": state.frozen_at,
        "counters": counters,
        "meter_since": counter.meter_since(now),
        "settings": state.settings,
        "modbus": state.modbus,
        "auth": {
            "required": device.auth_required,
            "read_token": state.read_token,
            "write_token": state.write_token,
            "pending": None
            if pending is None
            else {
                "token_read": pending.token_read,
                "token_write": pending.token_write,
                "expires_at": pending.expires_at,
            },
        },
        "rate_limit": {
            "limit": config.rate_limit,
            "window": config.rate_window,
            "in_window": device.rate_window.count(now, config.rate_window),
            "cotenant": config.cotenant_rate,
        },
        "history_in_flight": device.history_in_flight,
        "requests_logged": len(sim.request_log),
        "mdns": sim.mdns_active(),
    }
