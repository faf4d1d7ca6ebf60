"""The ``/history/latest`` payload: live OBIS registers and payload faults."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from functools import cache
import math
import random
from typing import Any
from zoneinfo import ZoneInfo

from .counter import Counter, Registers
from .faults import FaultMode
from .meter import to_kilo
from .profiles import IMPORT_ONLY_KEPT, SINGLE_PHASE_DROPPED

OBIS_GAS_VOLUME = "7-0:3.0.0"
OBIS_GAS_FLOW = "7-0:43.0.0"
OBIS_WATER_VOLUME = "8-0:1.0.0"
OBIS_WATER_FLOW = "8-0:2.0.0"

METER_SERIAL = "1EMH0012345678"
STATUS_WORD = "0x0182"

ENERGY_TOTALS = ("1.8.0", "2.8.0")
"""Registers changed by the counter faults (electricity)."""
NAN_REGISTERS = (
    "16.7.0",
    "36.7.0",
    "56.7.0",
    "76.7.0",
    "32.7.0",
    "52.7.0",
    "72.7.0",
    "31.7.0",
    "51.7.0",
    "71.7.0",
)
"""Power, voltage and current registers sent as NaN by the ``nan`` fault."""
DROPPED_REGISTERS = ("2.8.1", "13.7.0", "51.7.0", "52.7.0", "56.7.0")
"""Registers left out by the ``missing_fields`` fault."""
VALUELESS_REGISTER = "14.7.0"
"""Register that loses its ``value`` key under the ``missing_fields`` fault."""
HUGE_REGISTER_COUNT = 30_000
"""Extra registers of the ``huge_payload`` fault (about 2 MB of JSON)."""


def _register(value: float | str, unit: str, name: str) -> dict[str, Any]:
    """Return one OBIS register object as the device sends it."""
    return {"value": value, "unit": unit, "name": name}


def local_iso(at: float, tz: ZoneInfo) -> str:
    """Return local wall time without offset, e.g. ``2024-03-08T16:00:00``."""
    return datetime.fromtimestamp(int(at), tz).strftime("%Y-%m-%dT%H:%M:%S")


def _electricity_values(
    counter: Counter, at: float
) -> tuple[Registers, float, list[float], list[float], list[float], float, float]:
    """Return totals, power, per-phase power, volts, amps, frequency, power factor."""
    model = counter.model
    totals = counter.reading(at)
    rng = random.Random(f"live:{model.seed}:{math.floor(at)}")
    power = round(model.net_power(at) * (1 + 0.03 * (2 * rng.random() - 1)), 1)
    share1 = 0.28 + 0.1 * rng.random()
    share2 = 0.28 + 0.1 * rng.random()
    p1 = round(power * share1, 1)
    p2 = round(power * share2, 1)
    p3 = round(power - p1 - p2, 1)
    volts = [round(230 + 3 * (2 * rng.random() - 1), 1) for _ in range(3)]
    amps = [round(abs(p) / v, 2) for p, v in zip((p1, p2, p3), volts, strict=True)]
    frequency = round(50 + 0.05 * (2 * rng.random() - 1), 2)
    power_factor = round(0.95 + 0.04 * rng.random(), 3)
    return totals, power, [p1, p2, p3], volts, amps, frequency, power_factor


def electricity_registers(
    counter: Counter, at: float, profile: str = "default"
) -> dict[str, dict[str, Any]]:
    """Return the live registers of an electricity meter at time ``at``."""
    totals, power, phases, volts, amps, frequency, power_factor = _electricity_values(
        counter, at
    )
    imp, exp = totals.imp, totals.exp
    tariff1 = imp * 7 // 10 if totals.t1 is None else totals.t1
    if profile == "single_phase":
        phases[0] = power
        amps[0] = round(abs(power) / volts[0], 2)
    registers = {
        "1.8.0": _register(to_kilo(imp), "kWh", "Bezug"),
        "1.8.1": _register(to_kilo(tariff1), "kWh", "Bezug Tarif 1"),
        "1.8.2": _register(to_kilo(imp - tariff1), "kWh", "Bezug Tarif 2"),
        "2.8.0": _register(to_kilo(exp), "kWh", "Einspeisung"),
        "2.8.1": _register(to_kilo(exp), "kWh", "Einspeisung Tarif 1"),
        "16.7.0": _register(power, "W", "Leistung"),
        "36.7.0": _register(phases[0], "W", "Leistung L1"),
        "56.7.0": _register(phases[1], "W", "Leistung L2"),
        "76.7.0": _register(phases[2], "W", "Leistung L3"),
        # The firmware really sends some numbers as strings.
        "32.7.0": _register(f"{volts[0]:.1f}", "V", "Spannung L1"),
        "52.7.0": _register(f"{volts[1]:.1f}", "V", "Spannung L2"),
        "72.7.0": _register(f"{volts[2]:.1f}", "V", "Spannung L3"),
        "31.7.0": _register(amps[0], "A", "Strom L1"),
        "51.7.0": _register(amps[1], "A", "Strom L2"),
        "71.7.0": _register(amps[2], "A", "Strom L3"),
        "14.7.0": _register(frequency, "Hz", "Frequenz"),
        "13.7.0": _register(power_factor, "", "Leistungsfaktor"),
        "96.1.0": _register(METER_SERIAL, "", "Zählernummer"),
        "94.91.0": _register(STATUS_WORD, "", "Statuswort"),
    }
    if profile == "single_phase":
        for key in SINGLE_PHASE_DROPPED:
            del registers[key]
    elif profile == "import_only":
        registers = {k: v for k, v in registers.items() if k in IMPORT_ONLY_KEPT}
    return registers


def volume_registers(
    counter: Counter, at: float, boot_time: float, meter_since: bool = False
) -> dict[str, dict[str, Any]]:
    """Return the live registers and ``gw`` block of a gas or water meter.

    ``meter_since`` adds ``gw.meterSince`` (firmware 1.3 and newer).
    """
    model = counter.model
    litres = counter.reading(at).imp
    rng = random.Random(f"live:{model.seed}:{math.floor(at)}")
    flow_lph = model.net_power(at) * (0.9 + 0.2 * rng.random())
    flow = round(flow_lph / 1000, 3)
    since_boot = counter.reading(min(boot_time, at)).imp
    revolutions = round(max(litres - since_boot, 0) / 10, 1)
    gas = model.medium == "gas"
    volume_key = OBIS_GAS_VOLUME if gas else OBIS_WATER_VOLUME
    flow_key = OBIS_GAS_FLOW if gas else OBIS_WATER_FLOW
    gw: dict[str, Any] = {
        "ok": True,
        "medium": model.medium,
        "ticks": int(revolutions * 4),
        "revolutions": revolutions,
        "activeCoils": 3,
        "coils": 3,
        "referenceCoil": 0,
        "cycles": int(revolutions),
        "catchUp": 0,
        "dropped": 0,
        "refLost": 0,
        "hysteresis": 12.0,
        "energyFactor": 10.5 if gas else 0.0,
        "field": 120,
    }
    if meter_since:
        gw["meterSince"] = counter.meter_since(at)
    return {
        "gw": gw,
        volume_key: _register(to_kilo(litres), "m³", "Meter Reading"),
        flow_key: _register(flow, "m³/h", "Flow Rate"),
    }


@cache
def _huge_registers() -> dict[str, dict[str, Any]]:
    """Return the extra registers of the ``huge_payload`` fault (built once)."""
    return {
        f"99.{i}.0": _register(round(i * 1.001, 3), "Wh", f"Zusatzregister {i}")
        for i in range(HUGE_REGISTER_COUNT)
    }


def apply_faults(
    payload: dict[str, Any], faults: Collection[FaultMode], medium: str
) -> dict[str, Any]:
    """Return ``payload`` changed by the active payload faults."""
    if medium == "electricity":
        totals: tuple[str, ...] = ENERGY_TOTALS
        nan_keys: tuple[str, ...] = NAN_REGISTERS
        dropped: tuple[str, ...] = DROPPED_REGISTERS
        valueless = VALUELESS_REGISTER
    else:
        gas = medium == "gas"
        totals = (OBIS_GAS_VOLUME if gas else OBIS_WATER_VOLUME,)
        nan_keys = (OBIS_GAS_FLOW if gas else OBIS_WATER_FLOW,)
        dropped = ("gw",)
        valueless = nan_keys[0]
    present = [key for key in totals if key in payload]
    if FaultMode.COUNTER_ZERO in faults:
        for key in present:
            payload[key]["value"] = 0.0
    if FaultMode.COUNTER_BACKWARDS in faults:
        for key in present:
            payload[key]["value"] = round(float(payload[key]["value"]) - 5, 3)
    if FaultMode.NEW_OBIS in faults and medium == "electricity":
        imported = float(payload["1.8.0"]["value"])
        payload["1.8.3"] = _register(round(imported * 0.05, 3), "kWh", "Bezug Tarif 3")
        payload["3.7.0"] = _register(231.7, "var", "Blindleistung")
    if FaultMode.NEW_OBIS in faults and medium != "electricity":
        payload["0.2.0"] = _register("20000", "", "Firmware Revision")
    if FaultMode.MISSING_FIELDS in faults:
        for key in dropped:
            payload.pop(key, None)
        if valueless in payload:
            payload[valueless].pop("value", None)
    if FaultMode.STRING_VALUES in faults:
        for register in payload.values():
            if isinstance(register, dict) and isinstance(
                register.get("value"), int | float
            ):
                register["value"] = str(register["value"])
    if FaultMode.NAN in faults:
        for key in nan_keys:
            if key in payload and "value" in payload[key]:
                payload[key]["value"] = math.nan
    if FaultMode.HUGE_PAYLOAD in faults:
        payload.update(_huge_registers())
    return payload


def build_latest(
    counter: Counter,
    at: float,
    tz: ZoneInfo,
    boot_time: float,
    faults: Collection[FaultMode] = (),
    *,
    profile: str = "default",
    clock_offset: float = 0.0,
    meter_since: bool = False,
) -> dict[str, Any]:
    """Return the complete ``/history/latest`` body for a reading taken at ``at``.

    ``clock_offset`` shifts the reading's ``timestamp``/``datetime`` (a meter
    whose clock is off); ``meter_since`` adds ``gw.meterSince``.
    """
    stamp = at + clock_offset
    payload: dict[str, Any] = {
        "timestamp": math.floor(stamp),
        "datetime": local_iso(stamp, tz),
    }
    if counter.model.medium == "electricity":
        payload.update(electricity_registers(counter, at, profile))
    else:
        payload.update(volume_registers(counter, at, boot_time, meter_since))
    return apply_faults(payload, faults, counter.model.medium)
