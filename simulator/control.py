"""The control endpoint under ``/_sim/`` (never logged, limited or offline)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import FaultMode
from .responses import json_response

if TYPE_CHECKING:
    from .core import Simulator

CONTROL_PREFIX = "/_sim"


async def _body(request: web.Request) -> dict[str, Any]:
    """Return the JSON object body (empty when there is none)."""
    raw = await request.read()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        msg = "body must be a JSON object"
        raise TypeError(msg)
    return data


def _number(body: dict[str, Any], key: str, default: Any) -> Any:
    """Return ``body[key]`` as a float (``default`` when absent or null)."""
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{key} must be a number"
        raise TypeError(msg)
    return float(value)


def _bad(message: str) -> web.Response:
    """Return a 400 answer of the control endpoint."""
    return json_response({"ok": False, "error": message}, status=400)


def control_routes(sim: Simulator) -> list[web.RouteDef]:
    """Return the routes of the control endpoint bound to ``sim``."""

    async def get_state(request: web.Request) -> web.StreamResponse:
        return json_response(sim.summary())

    async def post_fault(request: web.Request) -> web.StreamResponse:
        try:
            body = await _body(request)
            mode = FaultMode(body["mode"])
            active = body.get("active", True)
            paths = body.get("paths")
            count = body.get("count")
            if count is not None and (
                isinstance(count, bool) or not isinstance(count, int) or count < 1
            ):
                return _bad("count must be a positive integer")
            if not isinstance(active, bool):
                return _bad("active must be a boolean")
            if paths is not None and (
                not isinstance(paths, list)
                or not all(isinstance(p, str) for p in paths)
            ):
                return _bad("paths must be a list of strings")
        except KeyError:
            return _bad("mode is required")
        except (ValueError, TypeError) as err:
            return _bad(str(err))
        if active:
            sim.set_fault(mode, paths, count)
        else:
            sim.clear_fault(mode)
        return json_response({"ok": True, "faults": sim.faults.as_json()})

    async def clear_faults(request: web.Request) -> web.StreamResponse:
        sim.clear_faults()
        return json_response({"ok": True, "faults": {}})

    async def get_log(request: web.Request) -> web.StreamResponse:
        return json_response([entry.as_json() for entry in sim.request_log])

    async def clear_log(request: web.Request) -> web.StreamResponse:
        sim.clear_log()
        return json_response({"ok": True})

    async def get_config(request: web.Request) -> web.StreamResponse:
        return json_response(sim.config.as_json())

    async def post_config(request: web.Request) -> web.StreamResponse:
        try:
            body = await _body(request)
            sim.configure_from_json(body)
        except (ValueError, TypeError) as err:
            return _bad(str(err))
        return json_response({"ok": True, "config": sim.config.as_json()})

    async def exchange_meter(request: web.Request) -> web.StreamResponse:
        try:
            body = await _body(request)
            sim.exchange_meter(
                _number(body, "start_value", 0.0),
                start_export=_number(body, "start_export", 0.0),
                at=_number(body, "at", None),
            )
        except (ValueError, TypeError) as err:
            return _bad(str(err))
        return json_response({"ok": True, "state": sim.summary()})

    async def correct_meter(request: web.Request) -> web.StreamResponse:
        try:
            body = await _body(request)
            value = _number(body, "value", None)
            if value is None:
                return _bad("value is required")
            sim.correct_meter(value, at=_number(body, "at", None))
        except (ValueError, TypeError) as err:
            return _bad(str(err))
        return json_response({"ok": True, "state": sim.summary()})

    async def not_found(request: web.Request) -> web.StreamResponse:
        return json_response({"ok": False, "error": "unknown control path"}, status=404)

    return [
        web.get(f"{CONTROL_PREFIX}/state", get_state),
        web.post(f"{CONTROL_PREFIX}/fault", post_fault),
        web.post(f"{CONTROL_PREFIX}/faults/clear", clear_faults),
        web.get(f"{CONTROL_PREFIX}/log", get_log),
        web.post(f"{CONTROL_PREFIX}/log/clear", clear_log),
        web.get(f"{CONTROL_PREFIX}/config", get_config),
        web.post(f"{CONTROL_PREFIX}/config", post_config),
        web.post(f"{CONTROL_PREFIX}/meter/exchange", exchange_meter),
        web.post(f"{CONTROL_PREFIX}/meter/correct", correct_meter),
        web.route("*", CONTROL_PREFIX + "/{tail:.*}", not_found),
    ]
