"""One table from client error to translation key, for updates, actions and forms.

The same key names an exception (``exceptions.<key>``), a config flow error
(``config.error.<key>``) and a repair flow error, each worded for its place.
"""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError

from .api.errors import (
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterBudgetError,
    WattwaechterError,
    WattwaechterForbiddenError,
    WattwaechterInvalidInputError,
    WattwaechterNoDataError,
    WattwaechterNotSupportedError,
    WattwaechterRetryLaterError,
)
from .const import DOMAIN

ERROR_KEYS: tuple[tuple[type[WattwaechterError], str], ...] = (
    (WattwaechterForbiddenError, "write_token_required"),
    (WattwaechterAuthError, "invalid_auth"),
    (WattwaechterBudgetError, "budget_exhausted"),
    (WattwaechterRetryLaterError, "device_busy"),
    (WattwaechterNoDataError, "no_meter_data"),
    (WattwaechterNotSupportedError, "not_supported"),
    (WattwaechterBadResponseError, "bad_response"),
)


def error_key(err: WattwaechterError) -> str:
    """Return the translation key of a client error; any other fails to connect."""
    if isinstance(err, WattwaechterInvalidInputError):
        return err.reason
    return next(
        (key for kind, key in ERROR_KEYS if isinstance(err, kind)), "cannot_connect"
    )


def translated[ErrorT: HomeAssistantError](
    cls: type[ErrorT], err: WattwaechterError | str, host: str, **extra: str
) -> ErrorT:
    """Return ``cls`` translated for a client error, or for a translation key."""
    placeholders = {"host": host}
    if not isinstance(err, str):
        retry_after = getattr(err, "retry_after", 0.0)
        placeholders |= {"error": str(err), "retry_after": f"{retry_after:.0f}"}
    return cls(
        translation_domain=DOMAIN,
        translation_key=err if isinstance(err, str) else error_key(err),
        translation_placeholders=placeholders | extra,
    )


def action_error(
    err: WattwaechterError | str, host: str, **extra: str
) -> HomeAssistantError:
    """Return the translated error of an action; ``err`` may be a key."""
    return translated(HomeAssistantError, err, host, **extra)
