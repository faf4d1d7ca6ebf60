"""Button: restart the device."""

from __future__ import annotations

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.budget import Priority
from .coordinator import SystemCoordinator, WattwaechterConfigEntry
from .entity import WattwaechterEntity, action

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the restart button when the integration may act on the device."""
    if entry.runtime_data.can_write:
        async_add_entities([RestartButton(entry.runtime_data.system)])


class RestartButton(WattwaechterEntity[SystemCoordinator], ButtonEntity):
    """Restarts the device; the slow data is read again once it is back."""

    _attr_device_class = ButtonDeviceClass.RESTART
    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "reboot"

    @action
    async def async_press(self) -> None:
        """Restart the device."""
        await self.coordinator.client.reboot(Priority.ACTION)
        self.coordinator.config_entry.runtime_data.restart.expect()
