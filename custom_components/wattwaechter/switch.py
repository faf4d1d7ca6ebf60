"""Switch: the device's status LED (``ledEnable`` in its settings)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.budget import Priority
from .api.errors import WattwaechterConnectionError
from .api.models import as_bool
from .coordinator import SettingsCoordinator, WattwaechterConfigEntry
from .entity import WattwaechterEntity, action

PARALLEL_UPDATES = 1

SETTING = "ledEnable"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the LED switch when the firmware reports the LED setting."""
    settings = entry.runtime_data.settings
    if settings.supported and (
        settings.data is None or settings.data.led_enable is not None
    ):
        async_add_entities([LedSwitch(settings)])


class LedSwitch(WattwaechterEntity[SettingsCoordinator], SwitchEntity):
    """Turns the status LED on or off; shows what the device reports."""

    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "led"

    @property
    def is_on(self) -> bool | None:
        """Return the device's ``ledEnable`` setting."""
        return self.coordinator.data.led_enable if self.coordinator.data else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the LED on."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the LED off."""
        await self._async_set(False)

    @action
    async def _async_set(self, enabled: bool) -> None:
        """Send the change; the device answers with the settings it applied."""
        try:
            applied = await self.coordinator.client.update_settings(
                {SETTING: enabled}, Priority.ACTION
            )
        except WattwaechterConnectionError:
            # The answer may be lost after the device applied the change.
            await self.coordinator.async_refresh()
            raise
        led_enable = as_bool(applied.get(SETTING))
        if led_enable is None or self.coordinator.data is None:
            await self.coordinator.async_refresh()
        else:
            data = replace(self.coordinator.data, led_enable=led_enable)
            self.coordinator.async_set_updated_data(data)
