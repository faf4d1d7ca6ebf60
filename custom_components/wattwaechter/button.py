"""Button: reboot the device."""

from __future__ import annotations

from homeassistant.components.button import ButtonDeviceClass, ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import REBOOT_PAUSE_SECONDS
from .coordinator import SystemCoordinator, WattwaechterConfigEntry
from .entity import WattwaechterEntity
from .helpers import wattwaechter_exception_handler

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the reboot button when the integration may act on the device."""
    if entry.runtime_data.can_write:
        async_add_entities([RebootButton(entry.runtime_data.system)])


class RebootButton(WattwaechterEntity[SystemCoordinator], ButtonEntity):
    """Restarts the device; polling pauses while it is away."""

    _attr_device_class = ButtonDeviceClass.RESTART
    _attr_entity_category = EntityCategory.CONFIG
    _attr_translation_key = "reboot"

    def __init__(self, coordinator: SystemCoordinator) -> None:
        """Bind the button to the device."""
        super().__init__(coordinator, "reboot")

    @wattwaechter_exception_handler
    async def async_press(self) -> None:
        """Reboot the device and hold polling back for the reboot time."""
        await self.coordinator.client.reboot()
        self.coordinator.config_entry.runtime_data.pause_polling(
            REBOOT_PAUSE_SECONDS, "restarts"
        )
