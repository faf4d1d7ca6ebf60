"""Switch: the device's status LED (``ledEnable``)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import WattwaechterRetryLaterError
from .api.models import as_bool
from .coordinator import ControlsCoordinator, WattwaechterConfigEntry
from .entity import WattwaechterEntity
from .helpers import wattwaechter_exception_handler

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the LED switch.

    It shows the LED setting with any token, so it exists also without the
    write token; switching then explains that the write token is needed.
    """
    async_add_entities([LedSwitch(entry.runtime_data.controls)])


class LedSwitch(WattwaechterEntity[ControlsCoordinator], SwitchEntity):
    """Turns the status LED on or off; the state is read back from the device."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "led"

    def __init__(self, coordinator: ControlsCoordinator) -> None:
        """Bind the switch to the device's settings."""
        super().__init__(coordinator, "led")

    @property
    def is_on(self) -> bool | None:
        """Return the device's ``ledEnable`` setting."""
        return self.coordinator.data.settings.led_enable

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the LED on."""
        await self._async_set(enabled=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the LED off."""
        await self._async_set(enabled=False)

    @wattwaechter_exception_handler
    async def _async_set(self, *, enabled: bool) -> None:
        """Send the change, then read the setting back (two requests)."""
        applied = await self.coordinator.client.update_settings({"ledEnable": enabled})
        try:
            await self.coordinator.async_refresh_settings()
        except WattwaechterRetryLaterError:
            # The change is made, but the request budget (or the device) has
            # no room to read it back now: show what the device said it
            # applied instead of failing an action that worked.
            if (led_enable := as_bool(applied.get("ledEnable"))) is None:
                raise
            self.coordinator.async_set_settings(led_enable=led_enable)
