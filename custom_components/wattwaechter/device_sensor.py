"""Sensors of the device itself: system info, LED status, last fresh reading."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from homeassistant.helpers.typing import StateType

from .coordinator import LedCoordinator, MeterCoordinator, SystemCoordinator
from .entity import WattwaechterEntity

LED_STATES = [
    "none",
    "ok",
    "startup",
    "info",
    "meter_attention",
    "ble_active",
    "ble_connected",
    "ota_active",
    "error",
    "reset_pending",
]


@dataclass(frozen=True, kw_only=True)
class DeviceSensorDescription[CoordinatorT](SensorEntityDescription):
    """A diagnostic of the device itself, read from one coordinator."""

    entity_category: EntityCategory | None = EntityCategory.DIAGNOSTIC
    entity_registry_enabled_default: bool = False
    value_fn: Callable[[CoordinatorT], StateType | datetime]


def _system(
    key: str, value_fn: Callable[[SystemCoordinator], StateType], **kwargs: Any
) -> DeviceSensorDescription[SystemCoordinator]:
    kwargs.setdefault("translation_key", key)
    return DeviceSensorDescription(key=key, value_fn=value_fn, **kwargs)


def _led_status(led: LedCoordinator) -> str | None:
    status = (led.data.status or "").lower() if led.data else ""
    return status if status in LED_STATES else None  # unknown to this version


SYSTEM_SENSORS: tuple[DeviceSensorDescription[SystemCoordinator], ...] = (
    _system(
        "wifi_signal",
        lambda system: system.data.signal_strength,
        translation_key=None,  # named by its device class, as core does
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
    ),
    _system("ssid", lambda system: system.data.ssid),
    _system("ip_address", lambda system: system.data.ip_address),
    _system("mdns_name", lambda system: system.data.mdns_name),
    _system("firmware_version", lambda system: system.data.firmware),
    _system(
        "free_heap",
        lambda system: system.data.free_heap,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_unit_of_measurement=UnitOfInformation.KILOBYTES,
        suggested_display_precision=0,
    ),
    _system("uptime", lambda system: system.data.uptime),
)
LED_SENSOR = DeviceSensorDescription[LedCoordinator](
    key="led_status",
    translation_key="led_status",
    device_class=SensorDeviceClass.ENUM,
    entity_registry_enabled_default=True,
    options=LED_STATES,
    value_fn=_led_status,
)
LAST_READING = DeviceSensorDescription[MeterCoordinator](
    key="last_reading",
    translation_key="last_reading",
    device_class=SensorDeviceClass.TIMESTAMP,
    value_fn=lambda meter: meter.last_fresh,  # disabled: it changes at every update
)


class DeviceSensor(WattwaechterEntity[Any], SensorEntity):
    """A value of the device itself."""

    entity_description: DeviceSensorDescription[Any]

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value."""
        return self.entity_description.value_fn(self.coordinator)
