"""Binary sensor: whether the meter reading is stale while the device runs."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MeterCoordinator, WattwaechterConfigEntry
from .entity import WattwaechterEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the meter reading problem sensor."""
    async_add_entities([MeterReadingProblem(entry.runtime_data.meter)])


class MeterReadingProblem(WattwaechterEntity[MeterCoordinator], BinarySensorEntity):
    """On while the device answers but the meter delivers no fresh reading.

    The reading head fell off or moved, or the meter's info mode is off.
    """

    _attr_device_class = BinarySensorDeviceClass.PROBLEM
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "meter_reading"

    @property
    def is_on(self) -> bool:
        """Return True while the reading is stale."""
        return self.coordinator.stale
