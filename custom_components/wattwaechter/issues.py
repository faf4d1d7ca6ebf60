"""Repair issues raised by the device's state.

* ``auth_disabled``: API authentication is off, so anyone on the network can
  reboot or reflash the meter. Fixable: the fix flow in ``repairs.py`` turns it
  on with fresh tokens.
* ``write_token_required``: an action was refused with 403 because only the
  READ token is stored; it leads to Reconfigure, where the WRITE token is added.
* ``rate_limited``: the device kept answering "too many requests" (or "busy")
  to our meter updates for minutes, usually because another client uses up
  its shared limit. It clears itself at the first normal answer.

The first two exist only while the entry is loaded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, ISSUE_WRITE_TOKEN

ISSUE_AUTH_DISABLED: Final = "auth_disabled"
ISSUE_RATE_LIMITED: Final = "rate_limited"
RATE_LIMITED_AFTER: Final = timedelta(minutes=3)
"""How long meter updates must keep being refused before the warning shows."""


def issue_id(kind: str, entry: ConfigEntry) -> str:
    """Return the ID of an entry's issue of one kind."""
    return f"{kind}_{entry.entry_id}"


def _placeholders(entry: ConfigEntry) -> dict[str, str]:
    return {"name": entry.title, "host": str(entry.data[CONF_HOST])}


@callback
def async_update_auth_issue(
    hass: HomeAssistant, entry: ConfigEntry, auth_required: bool | None
) -> None:
    """Raise the issue while the device reports auth off; drop it otherwise."""
    if auth_required is False:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(ISSUE_AUTH_DISABLED, entry),
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_AUTH_DISABLED,
            translation_placeholders=_placeholders(entry),
            data={"entry_id": entry.entry_id},
        )
    elif auth_required is True:
        ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_AUTH_DISABLED, entry))


@callback
def async_create_write_token_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Tell the user to add the write token through Reconfigure."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(ISSUE_WRITE_TOKEN, entry),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_WRITE_TOKEN,
        translation_placeholders=_placeholders(entry),
    )


@callback
def async_delete_write_token_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove the issue once actions can succeed."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_WRITE_TOKEN, entry))


@callback
def async_create_rate_limited_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Explain that another client keeps the device at its request limit."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(ISSUE_RATE_LIMITED, entry),
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_RATE_LIMITED,
        translation_placeholders={
            **_placeholders(entry),
            "minutes": f"{RATE_LIMITED_AFTER.total_seconds() / 60:.0f}",
        },
    )


@callback
def async_delete_rate_limited_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop the issue: the device answers normally again."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(ISSUE_RATE_LIMITED, entry))


@callback
def async_delete_device_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop the issues that describe a loaded entry's device."""
    for kind in (ISSUE_AUTH_DISABLED, ISSUE_RATE_LIMITED):
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))
