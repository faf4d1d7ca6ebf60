"""Helpers that build HTTP responses the way the firmware sends them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class BadRequest(Exception):
    """The request body is not the JSON object the endpoint expects."""


async def read_json(request: web.Request) -> Any:
    """Return the parsed JSON body or raise BadRequest."""
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest from err


def dumps(body: Any) -> bytes:
    """Serialise compactly as the firmware does (UTF-8, NaN allowed)."""
    return json.dumps(
        body, ensure_ascii=False, separators=(",", ":"), allow_nan=True
    ).encode()


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Return a response with ``Content-Type: application/json``."""
    return web.Response(
        body=dumps(body),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def error(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """Return ``{"error": message}`` with ``status``."""
    return json_response({"error": message}, status=status, headers=headers)


def too_many_requests() -> web.Response:
    """Return the documented 429 answer of the rate limit."""
    return error(429, "Too many requests", {"Retry-After": "10"})


def busy() -> web.Response:
    """Return the documented 503 answer of the heap guard."""
    return error(503, "Service temporary unavailable", {"Retry-After": "5"})


def no_content() -> web.Response:
    """Return 204 with an empty body."""
    return web.Response(status=204)
