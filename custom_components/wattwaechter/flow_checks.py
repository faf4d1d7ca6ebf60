"""What the config flow asks a device; ``form_errors`` shows a failed check in the form.

A check raises a client error, FormError or AbortFlow; only the last ends the flow.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
import logging
import re
from typing import Any

from homeassistant.const import CONF_HOST
from homeassistant.data_entry_flow import AbortFlow

from .api.budget import Priority
from .api.client import WattwaechterClient
from .api.errors import (
    WattwaechterAuthError,
    WattwaechterBudgetError,
    WattwaechterError,
    WattwaechterForbiddenError,
)
from .api.inputs import clean_token
from .api.models import Settings, SystemInfo
from .const import CONF_WRITE_TOKEN
from .errors import error_key

_LOGGER = logging.getLogger(__name__)

_ID_IN_NAME = re.compile(r"(?:wattwaechter|wwp|wwgw)-([0-9a-f]{12})\b", re.IGNORECASE)
ACTION = Priority.ACTION


class FormError(Exception):
    """A check failed; ``key`` is the form error of ``field``."""

    def __init__(self, key: str, field: str = "base") -> None:
        """Keep the error key and its field."""
        super().__init__(key)
        self.key, self.field = key, field


@contextmanager
def form_errors() -> Iterator[dict[str, str]]:
    """Yield the form's errors, filled in from what the block raised."""
    errors: dict[str, str] = {}
    try:
        yield errors
    except FormError as err:
        errors[err.field] = err.key
    except WattwaechterBudgetError:
        # A flow sends a handful of requests: only the device's Retry-After
        # holds one back, so the device is what is busy.
        errors["base"] = "device_busy"
    except WattwaechterError as err:
        key = error_key(err)
        errors[CONF_HOST if key.startswith("host_") else "base"] = key
    except AbortFlow:
        raise
    except Exception:
        _LOGGER.exception("Unexpected error while checking the WattWächter")
        errors["base"] = "unknown"


def device_id_from_discovery(properties: Mapping[str, Any], *names: str | None) -> str:
    """Return the bare-MAC device ID, as core forms it (TXT id, TXT mac, name)."""
    if device_id := str(properties.get("id", "")).rpartition("-")[2]:
        return device_id
    if device_id := str(properties.get("mac", "")).replace(":", "").upper():
        return device_id
    for text in names:
        if match := _ID_IN_NAME.search(text or ""):
            return match.group(1).upper()
    return ""


def typed_token(user_input: Mapping[str, Any], key: str) -> str | None:
    """Return the token typed into field ``key``; None when it is empty."""
    try:
        return clean_token(user_input.get(key))
    except WattwaechterError as err:
        raise FormError("token_invalid", key) from err


async def check_device(
    client: WattwaechterClient, device_id: str, *, write_check: bool
) -> tuple[SystemInfo, Settings | None]:
    """Read who answers; abort unless it is ``device_id`` (when one is expected).

    ``write_check`` tries the WRITE token by a change that changes nothing,
    after the identity check, so no other device is ever written to.
    """
    info = await client.system_info(ACTION)
    if not info.esp_id:
        raise FormError("bad_response")
    if device_id and not info.is_device(device_id):
        raise AbortFlow("wrong_device")
    try:
        settings: Settings | None = await client.settings(ACTION)
    except WattwaechterError:
        settings = None
    if write_check:
        await _check_write_token(client, settings or await client.settings(ACTION))
    return info, settings


async def _check_write_token(client: WattwaechterClient, settings: Settings) -> None:
    # The LED setting, or on older firmware the name, sent as the device has it.
    if settings.led_enable is not None:
        unchanged: dict[str, Any] = {"ledEnable": settings.led_enable}
    elif settings.device_name is not None:
        unchanged = {"device_name": settings.device_name}
    else:
        raise FormError("bad_response")
    try:
        await client.update_settings(unchanged, ACTION)
    except WattwaechterForbiddenError as err:
        raise FormError("write_token_read_only", CONF_WRITE_TOKEN) from err
    except WattwaechterAuthError as err:
        raise FormError("invalid_write_token", CONF_WRITE_TOKEN) from err
