"""Error handling shared by every action (a 403 raises the write-token issue)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .api import (
    CAUSE_ACTION,
    WattwaechterAuthError,
    WattwaechterConnectionError,
    WattwaechterError,
    WattwaechterForbiddenError,
    WattwaechterRetryLaterError,
    request_cause,
)
from .const import DOMAIN
from .coordinator import WattwaechterConfigEntry, retry_later_key
from .entity import WattwaechterEntity
from .issues import async_create_write_token_issue, async_delete_write_token_issue


def action_error(key: str, host: str, **placeholders: str) -> HomeAssistantError:
    """Return a translated error of a failed action."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"host": host, **placeholders},
    )


def action_error_for(
    hass: HomeAssistant, entry: WattwaechterConfigEntry, err: WattwaechterError
) -> HomeAssistantError:
    """Return the translated error of an action the device refused or missed.

    403 means the stored token may only read: that is not a reauth, the user
    gets the error and a repair issue that leads to Reconfigure.
    """
    host = entry.runtime_data.client.host
    if isinstance(err, WattwaechterForbiddenError):
        async_create_write_token_issue(hass, entry)
        return action_error("write_token_required", host)
    if isinstance(err, WattwaechterAuthError):
        return action_error("action_invalid_auth", host)
    if isinstance(err, WattwaechterRetryLaterError):
        return action_error(
            retry_later_key(err, "action_device_busy"),
            host,
            retry_after=f"{err.retry_after:.0f}",
        )
    if isinstance(err, WattwaechterConnectionError):
        return action_error("action_cannot_connect", host, error=str(err))
    return action_error("action_failed", host, error=str(err))


def wattwaechter_exception_handler[EntityT: WattwaechterEntity[Any], **P](
    func: Callable[Concatenate[EntityT, P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[EntityT, P], Coroutine[Any, Any, None]]:
    """Turn client errors of an action into translated HomeAssistantErrors."""

    @wraps(func)
    async def handler(self: EntityT, /, *args: P.args, **kwargs: P.kwargs) -> None:
        entry: WattwaechterConfigEntry = self.coordinator.config_entry
        try:
            # Every request the action makes, also in coordinator refreshes it
            # awaits, is served (and counted) as a user action: it fails fast.
            with request_cause(CAUSE_ACTION):
                await func(self, *args, **kwargs)
        except WattwaechterError as err:
            raise action_error_for(self.hass, entry, err) from err
        async_delete_write_token_issue(self.hass, entry)

    return handler
