"""The aiohttp application: the API request pipeline and its routes.

Pipeline of one API request (everything but ``/_sim/``):

1. apply the time-driven transitions (reboot, OTA) at the simulator clock;
2. offline (rebooting, or the ``offline`` fault), ``reset`` and ``timeout``
   faults drop the connection without a response;
3. status faults (``http_500``, ``busy_503``, ``rate_limit_429``,
   ``malformed_json``) answer before rate limit and authentication;
4. rate limit (429; a co-tenant's requests fill ``cotenant_rate`` places),
   heap guard for history (503); both rejections do not count toward the
   window, every other answered request does;
5. 404 (also for ``missing_endpoints``)/405, authentication (401/403);
6. the endpoint handler with the payload faults of that path, or the body
   from ``payloads`` (replay);
7. ``apply_then_drop``: the handler's effect stays, its answer is never sent.

Every API request is logged with its final status. A fault set with a
``count`` is used up only where it fires.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import TYPE_CHECKING

from aiohttp import hdrs, web

from .api import Context, Level, lookup
from .control import control_routes
from .device import Phase, TokenLevel
from .faults import FaultMode
from .requestlog import STATUS_DROPPED, STATUS_TIMEOUT, RequestLogEntry
from .responses import busy, error, json_response, no_content, too_many_requests

if TYPE_CHECKING:
    from .core import Simulator

PAYLOAD_FAULTS = (
    FaultMode.NO_DATA,
    FaultMode.STRING_VALUES,
    FaultMode.NAN,
    FaultMode.COUNTER_ZERO,
    FaultMode.COUNTER_BACKWARDS,
    FaultMode.HUGE_PAYLOAD,
    FaultMode.NEW_OBIS,
    FaultMode.MISSING_FIELDS,
    FaultMode.FROZEN_READING,
)
MALFORMED_BODY = b'{"timestamp":1700000000,"1.8.0":{"value":12345.6'


def drop_connection(request: web.Request, *, reset: bool = False) -> web.Response:
    """Close the client connection without an HTTP response.

    With ``reset`` the socket lingers for 0 s, so the peer gets a TCP RST.
    The returned response is never sent (writing to the closed transport
    fails quietly inside aiohttp).
    """
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
            transport.abort()
        else:
            transport.close()
    return web.Response()


class ApiHandler:
    """Answers every request outside ``/_sim/`` like the device would."""

    def __init__(self, sim: Simulator) -> None:
        """Serve the device of ``sim``."""
        self._sim = sim

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Run the pipeline described in the module docstring."""
        sim = self._sim
        if sim.config.latency > 0:
            await asyncio.sleep(sim.config.latency)
        device = sim.device
        device.advance()
        now = device.now()
        path = request.path
        level = device.token_level(request.headers.get(hdrs.AUTHORIZATION))

        def log(status: int) -> None:
            sim.record(
                RequestLogEntry(
                    time=now,
                    method=request.method,
                    path=path,
                    query=request.query_string,
                    status=status,
                    token_level=str(level),
                )
            )

        def answer(response: web.Response) -> web.Response:
            log(response.status)
            return response

        faults = sim.faults
        if device.phase is Phase.OFFLINE or faults.take(FaultMode.OFFLINE, path):
            log(STATUS_DROPPED)
            return drop_connection(request)
        if faults.take(FaultMode.RESET, path):
            log(STATUS_DROPPED)
            return drop_connection(request, reset=True)
        if faults.take(FaultMode.TIMEOUT, path):
            log(STATUS_TIMEOUT)
            await sim.hang()
            return drop_connection(request)
        if faults.take(FaultMode.HTTP_500, path):
            return answer(error(500, "Internal Server Error"))
        if faults.take(FaultMode.BUSY_503, path):
            return answer(busy())
        if faults.take(FaultMode.RATE_LIMIT_429, path):
            return answer(too_many_requests())
        if faults.take(FaultMode.MALFORMED_JSON, path):
            return answer(
                web.Response(body=MALFORMED_BODY, content_type="application/json")
            )

        config = device.config
        limit = config.rate_limit - config.cotenant_rate
        if not device.rate_window.allows(now, limit, config.rate_window):
            return answer(too_many_requests())
        endpoint, known = lookup(request.method, path)
        if path in config.missing_endpoints:
            endpoint, known = None, False
        history = endpoint is not None and endpoint.history
        if history and device.history_in_flight >= config.max_history_in_flight:
            return answer(busy())
        device.rate_window.record(now)
        if endpoint is None:
            if known:
                return answer(error(405, "Method not allowed"))
            return answer(error(404, "Not found"))
        if device.auth_required and endpoint.level is not Level.NONE:
            if level in (TokenLevel.NONE, TokenLevel.INVALID):
                return answer(error(401, "Invalid or missing API token"))
            if endpoint.level is Level.WRITE and level is not TokenLevel.WRITE:
                return answer(error(403, "Forbidden"))

        context = Context(
            device=device,
            request=request,
            payload_faults=frozenset(
                mode for mode in PAYLOAD_FAULTS if faults.take(mode, path)
            ),
            ip_address=sim.ip_address,
        )
        handler = endpoint.handler
        if request.method in ("GET", "HEAD") and path in config.payloads:
            handler = replay
        if not history:
            response = await handler(context)
        else:
            device.history_in_flight += 1
            try:
                if config.history_delay > 0:
                    await asyncio.sleep(config.history_delay)
                response = await handler(context)
            finally:
                device.history_in_flight -= 1
        if faults.take(FaultMode.APPLY_THEN_DROP, path):
            log(STATUS_DROPPED)
            return drop_connection(request)
        log(response.status)
        return response


async def replay(ctx: Context) -> web.StreamResponse:
    """Answer with the body configured in ``payloads`` (None = 204)."""
    body = ctx.device.config.payloads[ctx.request.path]
    return no_content() if body is None else json_response(body)


def build_app(sim: Simulator) -> web.Application:
    """Return the aiohttp application serving ``sim``."""
    app = web.Application(client_max_size=1024 * 1024)
    app.add_routes(control_routes(sim))
    app.router.add_route("*", "/{tail:.*}", ApiHandler(sim).handle)
    return app
