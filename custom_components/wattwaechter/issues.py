"""Repair issues the device's state raises; each goes away when the state does."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .compat import issue_entry
from .const import DOMAIN, STALE_ISSUE_AFTER

AUTH_DISABLED: Final = "auth_disabled"
WRITE_TOKEN: Final = "write_token_required"
RATE_LIMITED: Final = "rate_limited"
STALE: Final = "meter_stale"
WRONG_DEVICE: Final = "wrong_device"

REPAIR_AFTER: Final = {RATE_LIMITED: timedelta(minutes=3), STALE: STALE_ISSUE_AFTER}
"""How long a refusing or stale meter lasts before its issue is raised."""


@callback
def async_set_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    active: bool,
    **placeholders: str,
) -> None:
    """Raise the issue ``kind`` of the entry while ``active``; drop it otherwise.

    Called at every update: the registry is touched only when that changes.
    """
    issue_id = f"{kind}_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    if not active:
        if issue is not None:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    values = {"name": entry.title, "host": str(entry.data[CONF_HOST]), **placeholders}
    if issue is not None and issue.translation_placeholders == values:
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=kind == AUTH_DISABLED,
        severity=ir.IssueSeverity.WARNING,
        translation_key=kind,
        translation_placeholders=values,
        data={"entry_id": entry.entry_id},
        **issue_entry(entry),
    )


@callback
def async_delete_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Drop the issues about what the entry saw (it unloads); not write_token."""
    for kind in (AUTH_DISABLED, RATE_LIMITED, STALE, WRONG_DEVICE):
        async_set_issue(hass, entry, kind, False)
