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

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """Generate, confirm and store tokens, turn auth on, read back."""
        entry_id = str((self.data or {}).get("entry_id"))
        entry: WattwaechterConfigEntry | None = (
            self.hass.config_entries.async_get_entry(entry_id)
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
        placeholders = {"name": entry.title, "host": entry.data[CONF_HOST]}
        return self.async_show_form(
            step_id="confirm", description_placeholders=placeholders, errors=errors
        )


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """Return the fix flow of an issue (its entry is in the issue's data)."""
    if issue_id.startswith(f"{AUTH_DISABLED}_"):
        return EnableAuthRepairFlow()
    return ConfirmRepairFlow()
