"""Options: how often the meter is read, and how far back history is imported."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers import selector
import voluptuous as vol

from .const import CONF_DAILY_HISTORY, CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL

MIN_SCAN_INTERVAL = 5
MAX_SCAN_INTERVAL = 300
SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SCAN_INTERVAL): selector.NumberSelector(
            selector.NumberSelectorConfig(
                step=1, unit_of_measurement="s", mode=selector.NumberSelectorMode.BOX
            )
        ),
        vol.Optional(CONF_DAILY_HISTORY): selector.BooleanSelector(),
    }
)
RANGE = {"min": str(MIN_SCAN_INTERVAL), "max": str(MAX_SCAN_INTERVAL)}


class WattwaechterOptionsFlow(OptionsFlow):
    """The meter interval and the opt-in to daily values."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for both; a new interval applies at once, without a reload."""
        entry = self.config_entry
        current = {
            CONF_SCAN_INTERVAL: int(DEFAULT_SCAN_INTERVAL.total_seconds()),
            CONF_DAILY_HISTORY: False,
            **entry.options,
            **(user_input or {}),
        }
        errors: dict[str, str] = {}
        if user_input is not None:
            seconds = int(current[CONF_SCAN_INTERVAL])
            if MIN_SCAN_INTERVAL <= seconds <= MAX_SCAN_INTERVAL:
                # Not an update listener: HA 2026.6+ warns when an entry with
                # listeners is reloaded by reauth or reconfigure.
                if entry.state is ConfigEntryState.LOADED:
                    entry.runtime_data.meter.async_set_interval(seconds)
                return self.async_create_entry(
                    data={**current, CONF_SCAN_INTERVAL: seconds}
                )
            errors[CONF_SCAN_INTERVAL] = "interval_out_of_range"
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(SCHEMA, current),
            description_placeholders=RANGE,
            errors=errors,
        )
