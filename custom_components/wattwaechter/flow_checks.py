"""What the config flow asks a device before it stores anything about it.

Every check raises a client error or FormError; ``form_errors`` turns either
into the form's errors, so the steps stay free of try/except.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
import logging
import re
from typing import Any

from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api.budget import Priority, RequestBudget
from .api.client import WattwaechterClient
from .api.errors import (
    WattwaechterBudgetError,
    WattwaechterError,
    WattwaechterForbiddenError,
)
from .api.inputs import clean_token, parse_host
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


@dataclass(frozen=True, slots=True)
class Found:
    """What a device told about itself."""

    info: SystemInfo
    settings: Settings | None

    @property
    def name(self) -> str | None:
        """Return the name the user gave the device."""
        return self.settings.device_name if self.settings else None


async def form_errors(check: Awaitable[Any]) -> dict[str, str]:
    """Run a check; return its form errors (an unexpected one is logged)."""
    try:
        await check
    except FormError as err:
        return {err.field: err.key}
    except WattwaechterBudgetError:
        # A flow sends a handful of requests: only the device's Retry-After
        # holds one back, so the device is what is busy.
        return {"base": "device_busy"}
    except WattwaechterError as err:
        key = error_key(err)
        return {CONF_HOST if key.startswith("host_") else "base": key}
    except AbortFlow:
        raise
    except Exception:
        _LOGGER.exception("Unexpected error while checking the WattWächter")
        return {"base": "unknown"}
    return {}


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


def host_of(text: str) -> str:
    """Return the normalised ``host[:port]`` the user typed."""
    return parse_host(text).authority


def typed_token(user_input: Mapping[str, Any], key: str) -> str | None:
    """Return the token typed into field ``key``; None when it is empty."""
    try:
        return clean_token(str(user_input.get(key) or ""))
    except WattwaechterError as err:
        raise FormError("token_invalid", key) from err


class DeviceChecks:
    """The flow's requests, through one budget: a retry honours Retry-After."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Use HA's shared session, which also resolves host names."""
        self._session = async_get_clientsession(hass)
        self._budget = RequestBudget()

    def _client(
        self, host: str, token: str | None = None, write_token: str | None = None
    ) -> WattwaechterClient:
        return WattwaechterClient(
            host,
            self._session,
            read_token=token,
            write_token=write_token,
            budget=self._budget,
        )

    async def probe(
        self, host: str, token: str | None, device_id: str | None = None
    ) -> Found:
        """Read who answers at ``host``; abort if it is not ``device_id``."""
        client = self._client(host, token)
        info = await client.system_info(ACTION)
        if not info.esp_id:
            raise FormError("bad_response")
        if device_id and not info.is_device(device_id):
            raise AbortFlow("wrong_device")
        try:
            settings: Settings | None = await client.settings(ACTION)
        except WattwaechterError:
            settings = None
        return Found(info, settings)

    async def check_tokens(
        self,
        host: str,
        user_input: Mapping[str, Any],
        stored: Mapping[str, Any],
        device_id: str | None,
        *,
        required: bool = True,
    ) -> tuple[Found, dict[str, str | None]]:
        """Read with the tokens typed (an empty field keeps ``stored``'s).

        The READ token reads, or the WRITE token when it is the only one; a
        WRITE token typed anew is also checked with a change that changes
        nothing. Return what answered and the tokens to store.
        """
        new_write = typed_token(user_input, CONF_WRITE_TOKEN)
        token = typed_token(user_input, CONF_TOKEN) or stored.get(CONF_TOKEN)
        write_token = new_write or stored.get(CONF_WRITE_TOKEN)
        if required and token is None and write_token is None:
            raise FormError("token_required")
        found = await self.probe(host, token or write_token, device_id)
        if new_write is not None:
            await self.check_write_token(host, new_write, found.settings)
        return found, {CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token}

    async def check_write_token(
        self, host: str, write_token: str, settings: Settings | None
    ) -> None:
        """Send a change that changes nothing; a 403 means the token may only read.

        The change is the LED setting, or on older firmware the name, the
        device already has.
        """
        client = self._client(host, write_token=write_token)
        settings = settings or await client.settings(ACTION)
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
        except WattwaechterError as err:
            if error_key(err) == "invalid_auth":
                raise FormError("invalid_write_token", CONF_WRITE_TOKEN) from err
            raise

    async def reaches(self, host: str, token: str | None, device_id: str) -> bool:
        """Return True when the device still answers at ``host``, a name.

        An IP address is not asked: the device announcing another one left it.
        """
        try:
            if parse_host(host).is_ip:
                return False
            info = await self._client(host, token).system_info(ACTION)
        except WattwaechterError:
            return False
        return info.is_device(device_id)
