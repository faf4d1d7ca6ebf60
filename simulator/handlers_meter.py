"""Handlers of ``/history`` (latest, highRes, lowRes) and ``/modbus/status``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import FaultMode
from .history import (
    HistoryError,
    Memory,
    NoData,
    high_res,
    low_res,
    parse_day,
    parse_days,
)
from .latest import build_latest, electricity_registers
from .responses import error, json_response, no_content

if TYPE_CHECKING:
    from .api import Context
    from .device import Device


async def latest(ctx: Context) -> web.StreamResponse:
    """``GET /history/latest``: 204 until the first reading after boot.

    Under ``frozen_reading`` the reading of the moment the head fell off is
    sent again and again.
    """
    device = ctx.device
    if device.in_first_reading_window() or FaultMode.NO_DATA in ctx.payload_faults:
        return no_content()
    at = device.now()
    frozen = device.state.frozen_at
    if FaultMode.FROZEN_READING in ctx.payload_faults and frozen is not None:
        at = min(at, frozen)
    body = build_latest(
        device.counter(),
        at,
        device.timezone(),
        device.state.boot_time,
        ctx.payload_faults,
        profile=device.config.profile,
        clock_offset=device.config.meter_clock_offset,
        meter_since=device.firmware_at_least(1, 3),
    )
    return json_response(body)


def _memory(device: Device) -> Memory:
    """Return which days ``device`` has history for."""
    config = device.config
    return Memory(
        now=device.now(),
        tz=device.timezone(),
        history_days=config.history_days,
        gaps=frozenset(config.history_gaps),
    )


def _no_data(device: Device, err: NoData) -> web.Response:
    """Answer a day without data: 204 from firmware 1.3 on, 400 before."""
    if device.firmware_at_least(1, 3):
        return no_content()
    return error(400, err.message)


async def history_high_res(ctx: Context) -> web.StreamResponse:
    """``GET /history/highRes?date=YYYY-MM-DD``."""
    device = ctx.device
    try:
        day = parse_day(ctx.request.query.get("date"))
        body = high_res(device.counter(), _memory(device), day)
    except NoData as err:
        return _no_data(device, err)
    except HistoryError as err:
        return error(400, err.message)
    return json_response(body)


async def history_low_res(ctx: Context) -> web.StreamResponse:
    """``GET /history/lowRes?start=YYYY-MM-DD&days=N``."""
    device = ctx.device
    query = ctx.request.query
    try:
        start = parse_day(query.get("start"))
        days = parse_days(query.get("days", "1"))
        body = low_res(
            device.counter(),
            _memory(device),
            start,
            days,
            skip_empty=device.firmware_at_least(1, 3),
        )
    except NoData as err:
        return _no_data(device, err)
    except HistoryError as err:
        return error(400, err.message)
    return json_response(body)


# --- /settings and /auth -----------------------------------------------------


MODBUS_REGISTERS = (
    (40073, "AphA", "31.7.0", "A"),
    (40074, "AphB", "51.7.0", "A"),
    (40075, "AphC", "71.7.0", "A"),
    (40078, "PhVphA", "32.7.0", "V"),
    (40079, "PhVphB", "52.7.0", "V"),
    (40080, "PhVphC", "72.7.0", "V"),
    (40086, "Hz", "14.7.0", "Hz"),
    (40088, "W", "16.7.0", "W"),
    (40089, "WphA", "36.7.0", "W"),
    (40090, "WphB", "56.7.0", "W"),
    (40091, "WphC", "76.7.0", "W"),
    (40108, "TotWhExp", "2.8.0", "Wh"),
    (40116, "TotWhImp", "1.8.0", "Wh"),
)


def _invalid_register(register: int, name: str, obis: str, unit: str) -> dict[str, Any]:
    """Return a register the meter does not deliver (``valid: false``)."""
    return {
        "register": register,
        "name": name,
        "obis": obis,
        "value": None,
        "unit": unit,
        "valid": False,
    }


async def modbus_status(ctx: Context) -> web.StreamResponse:
    """``GET /modbus/status``."""
    device = ctx.device
    modbus = device.state.modbus
    enabled = bool(modbus["enable"])
    registers: list[dict[str, Any]] = []
    if device.config.medium == "electricity":
        live = electricity_registers(
            device.counter(), device.now(), device.config.profile
        )
        for register, name, obis, unit in MODBUS_REGISTERS:
            if obis not in live:
                registers.append(_invalid_register(register, name, obis, unit))
                continue
            value = float(live[obis]["value"])
            if unit == "Wh":
                value = round(value * 1000, 1)
            registers.append(
                {
                    "register": register,
                    "name": name,
                    "obis": obis,
                    "value": value if enabled else None,
                    "unit": unit,
                    "valid": enabled,
                }
            )
    return json_response(
        {
            "enabled": enabled,
            "running": enabled,
            "port": modbus["port"],
            "active_connections": 0,
            "registers": registers,
        }
    )
