"""The fix flow of the ``auth_disabled`` issue: turn API authentication on."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.exceptions import HomeAssistantError

from .coordinator import WattwaechterConfigEntry
from .issues import AUTH_DISABLED
from .security import async_enable_auth


class EnableAuthRepairFlow(ConfirmRepairFlow):
    """Turn the device's API authentication on, with new tokens stored."""

    def __init__(self, entry_id: str) -> None:
        """Fix the device of one entry."""
        self._entry_id = entry_id

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Generate, confirm and store tokens, turn auth on, read back."""
        entry: WattwaechterConfigEntry | None = (
            self.hass.config_entries.async_get_entry(self._entry_id)
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                await async_enable_auth(self.hass, entry)
            except HomeAssistantError as err:
                errors["base"] = err.translation_key or "unknown"
            else:
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "name": entry.title,
                "host": str(entry.data[CONF_HOST]),
            },
            errors=errors,
        )


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Return the fix flow of an issue."""
    entry_id = (data or {}).get("entry_id")
    if issue_id.startswith(f"{AUTH_DISABLED}_") and isinstance(entry_id, str):
        return EnableAuthRepairFlow(entry_id)
    return ConfirmRepairFlow()
