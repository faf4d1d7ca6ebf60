"""Handlers of ``/settings``, ``/auth``, ``/setup``, ``/mqtt`` and ``/cloud``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .responses import BadRequest, error, json_response, read_json
from .settings import SettingsError, merge_settings

if TYPE_CHECKING:
    from .api import Context


LEGACY_MISSING_SETTINGS = ("ledEnable", "api_auth_required", "timezone", "language")
"""Settings older firmware does not have (``legacy_firmware``)."""


async def get_settings(ctx: Context) -> web.StreamResponse:
    """``GET /settings`` (passwords are never returned)."""
    settings = ctx.device.state.settings
    if ctx.device.config.legacy_firmware:
        settings = {
            k: v for k, v in settings.items() if k not in LEGACY_MISSING_SETTINGS
        }
    return json_response(settings)


async def post_settings(ctx: Context) -> web.StreamResponse:
    """``POST /settings``: partial deep merge."""
    state = ctx.device.state
    try:
        changes = await read_json(ctx.request)
        if ctx.device.config.legacy_firmware and isinstance(changes, dict) and changes:
            changes = {
                k: v for k, v in changes.items() if k not in LEGACY_MISSING_SETTINGS
            }
            if not changes:  # only settings this firmware does not know
                return json_response({"success": True, "applied": {}})
        settings, modbus, applied = merge_settings(
            state.settings, state.modbus, state.secrets, changes
        )
    except BadRequest:
        return json_response({"success": False, "error": "Invalid JSON"}, status=400)
    except SettingsError as err:
        return json_response({"success": False, "error": str(err)}, status=400)
    state.settings = settings
    state.modbus = modbus
    return json_response({"success": True, "applied": applied})


async def tokens_generate(ctx: Context) -> web.StreamResponse:
    """``POST /auth/tokens/generate``."""
    pending = ctx.device.generate_tokens()
    return json_response(
        {
            "success": True,
            "pending": {
                "token_read": pending.token_read,
                "token_write": pending.token_write,
            },
            "expires_in": 60,
        }
    )


async def tokens_confirm(ctx: Context) -> web.StreamResponse:
    """``POST /auth/tokens/confirm`` with ``{"new_write_token": ...}``."""
    try:
        body = await read_json(ctx.request)
    except BadRequest:
        return json_response({"success": False, "error": "Invalid JSON"}, status=400)
    new_write = body.get("new_write_token") if isinstance(body, dict) else None
    problem = ctx.device.confirm_tokens(new_write)
    if problem is not None:
        return json_response({"success": False, "error": problem}, status=400)
    return json_response({"success": True, "message": "Tokens activated successfully."})


async def setup_token(ctx: Context) -> web.StreamResponse:
    """``GET /setup/token``: only before the initial setup, so always 403 here."""
    return error(403, "Setup already completed")


# --- /ota ----------------------------------------------------------------------


CA_BUNDLE_SIZE = 5750
MAX_CA_SIZE = 4096


async def mqtt_status(ctx: Context) -> web.StreamResponse:
    """``GET /mqtt/status``."""
    device = ctx.device
    mqtt = device.state.settings["mqtt"]
    enabled = bool(mqtt["enable"])
    state, last_error, message = "OFF", 0, ""
    if enabled and mqtt["host"]:
        state = "CONNECTED"
    elif enabled:
        state, last_error, message = "FAILED", -2, "No broker host configured"
    return json_response(
        {
            "enabled": enabled,
            "state": state,
            "host": mqtt["host"],
            "port": mqtt["port"],
            "client_id": mqtt["client_id"]
            or f"wattwaechter-{device.config.device_id.lower()}",
            "use_tls": mqtt["use_tls"],
            "last_error": last_error,
            "last_error_message": message,
            "reconnect_attempts": 0,
        }
    )


# (register, SunSpec name, OBIS, unit) of the documented Modbus map.


async def mqtt_ca_get(ctx: Context) -> web.StreamResponse:
    """``GET /mqtt/ca``."""
    custom = ctx.device.state.custom_ca
    return json_response(
        {
            "has_custom_cert": custom is not None,
            "bundle_size": CA_BUNDLE_SIZE + len(custom or ""),
            "custom_size": len(custom or ""),
        }
    )


async def mqtt_ca_post(ctx: Context) -> web.StreamResponse:
    """``POST /mqtt/ca`` with ``{"certificate": "<PEM>"}``."""
    try:
        body = await read_json(ctx.request)
    except BadRequest:
        return error(400, "Invalid JSON")
    pem = body.get("certificate") if isinstance(body, dict) else None
    if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
        return error(400, "Invalid certificate")
    if len(pem) > MAX_CA_SIZE:
        return error(413, "Certificate too large")
    ctx.device.state.custom_ca = pem
    return json_response(
        {
            "success": True,
            "message": "Certificate added",
            "bundle_size": CA_BUNDLE_SIZE + len(pem),
        }
    )


async def mqtt_ca_delete(ctx: Context) -> web.StreamResponse:
    """``DELETE /mqtt/ca``."""
    if ctx.device.state.custom_ca is None:
        return error(404, "No custom certificate")
    ctx.device.state.custom_ca = None
    return json_response(
        {
            "success": True,
            "message": "Custom certificate deleted",
            "bundle_size": CA_BUNDLE_SIZE,
        }
    )


async def cloud_pair(ctx: Context) -> web.StreamResponse:
    """``POST /cloud/pair`` with ``{"pairing_token": "WW-XXXXXXXX"}``."""
    try:
        body = await read_json(ctx.request)
    except BadRequest:
        return error(400, "Invalid JSON")
    token = body.get("pairing_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return error(400, "Missing pairing_token")
    ctx.device.state.cloud_pairing_token = token
    return json_response({"success": True, "message": "Pairing wird durchgeführt..."})


async def cloud_unpair(ctx: Context) -> web.StreamResponse:
    """``DELETE /cloud/pair``."""
    ctx.device.state.cloud_pairing_token = None
    return json_response({"success": True, "message": "Pairing token removed."})
