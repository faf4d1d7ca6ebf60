"""Sensors: one per OBIS register the meter reports, plus system diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfInformation,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api import SystemInfo
from .coordinator import (
    ControlsCoordinator,
    MeterCoordinator,
    SystemCoordinator,
    WattwaechterConfigEntry,
)
from .entity import WattwaechterEntity
from .obis import KNOWN_OBIS, ObisSensorDescription, generic_description

PARALLEL_UPDATES = 0

# ``/system/led`` status values, lower-cased as HA enum options.
LED_STATES: list[str] = [
    "none",
    "ok",
    "startup",
    "info",
    "ble_active",
    "ble_connected",
    "ota_active",
    "error",
    "reset_pending",
]


@dataclass(frozen=True, kw_only=True)
class SystemSensorDescription(SensorEntityDescription):
    """A diagnostic sensor fed by ``/system/info``."""

    value_fn: Callable[[SystemInfo], StateType]


SYSTEM_SENSORS: tuple[SystemSensorDescription, ...] = (
    SystemSensorDescription(
        key="wifi_signal",
        translation_key="wifi_signal",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.signal_strength,
    ),
    SystemSensorDescription(
        key="ssid",
        translation_key="ssid",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.ssid,
    ),
    SystemSensorDescription(
        key="ip_address",
        translation_key="ip_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.ip_address,
    ),
    SystemSensorDescription(
        key="mdns_name",
        translation_key="mdns_name",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.mdns_name,
    ),
    SystemSensorDescription(
        key="firmware_version",
        translation_key="firmware_version",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.firmware,
    ),
    SystemSensorDescription(
        key="free_heap",
        translation_key="free_heap",
        native_unit_of_measurement=UnitOfInformation.BYTES,
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_unit_of_measurement=UnitOfInformation.KILOBYTES,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.free_heap,
    ),
    SystemSensorDescription(
        key="uptime",
        translation_key="uptime",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda info: info.uptime,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the meter sensors now and whenever a new register shows up."""
    meter = entry.runtime_data.meter
    known: set[str] = set()

    @callback
    def add_new_registers() -> None:
        """Create sensors for registers not seen before (no reload needed)."""
        if not meter.data:
            return
        new = [
            ObisSensor(meter, KNOWN_OBIS.get(code) or generic_description(register))
            for code, register in meter.data.values.items()
            if code not in known
        ]
        known.update(sensor.entity_description.key for sensor in new)
        if new:
            async_add_entities(new)

    add_new_registers()
    entry.async_on_unload(meter.async_add_listener(add_new_registers))
    async_add_entities(
        SystemSensor(entry.runtime_data.system, description)
        for description in SYSTEM_SENSORS
    )
    async_add_entities([LedStatusSensor(entry.runtime_data.controls)])


class ObisSensor(WattwaechterEntity[MeterCoordinator], SensorEntity):
    """One OBIS register of the meter."""

    entity_description: ObisSensorDescription

    def __init__(
        self, coordinator: MeterCoordinator, description: ObisSensorDescription
    ) -> None:
        """Bind the sensor to its register."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def available(self) -> bool:
        """Return False while the register is missing from the reading."""
        return (
            super().available
            and self.entity_description.key in self.coordinator.data.values
        )

    @property
    def native_value(self) -> StateType:
        """Return the register's value (None when unreadable)."""
        register = self.coordinator.data.values.get(self.entity_description.key)
        if register is None:
            return None
        if (
            self.entity_description.state_class is None
            and self.native_unit_of_measurement is None
        ):
            return register.value
        return register.number


class SystemSensor(WattwaechterEntity[SystemCoordinator], SensorEntity):
    """A diagnostic value from the system info."""

    entity_description: SystemSensorDescription

    def __init__(
        self, coordinator: SystemCoordinator, description: SystemSensorDescription
    ) -> None:
        """Bind the sensor to its system info field."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType:
        """Return the field's value."""
        return self.entity_description.value_fn(self.coordinator.data)


class LedStatusSensor(WattwaechterEntity[ControlsCoordinator], SensorEntity):
    """What the status LED signals (the highest-priority active status)."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_options = LED_STATES
    _attr_translation_key = "led_status"

    def __init__(self, coordinator: ControlsCoordinator) -> None:
        """Bind the sensor to the LED status."""
        super().__init__(coordinator, "led_status")

    @property
    def native_value(self) -> str | None:
        """Return the status; one this integration does not know is unknown."""
        status = (self.coordinator.data.led.status or "").lower()
        return status if status in LED_STATES else None
