"""Sensors of the device itself: system info, LED status, last reading, tariff.

Each reads one coordinator; the OBIS sensors are in sensor.py, which adds
these too.
"""

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
from homeassistant.core import callback
from homeassistant.helpers.typing import StateType

from .api.models import LedStatus, MeterReading, SystemInfo
from .coordinator import MeterCoordinator, WattwaechterCoordinator
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
TARIFFS = [f"1.8.{n}" for n in range(1, 10)]
TARIFF_HOLD = 900.0
"""Seconds the active tariff stays shown while no tariff register grows."""


@dataclass(frozen=True, kw_only=True)
class DeviceSensorDescription[DataT](SensorEntityDescription):
    """A sensor of the device itself, fed by one coordinator."""

    value_fn: Callable[[DataT], StateType | datetime]


def _diagnostic(
    key: str, value_fn: Callable[[SystemInfo], StateType], **kwargs: Any
) -> DeviceSensorDescription[SystemInfo]:
    kwargs.setdefault("translation_key", key)
    return DeviceSensorDescription(
        key=key,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=value_fn,
        **kwargs,
    )


SYSTEM_SENSORS: tuple[DeviceSensorDescription[SystemInfo], ...] = (
    _diagnostic(
        "wifi_signal",
        lambda info: info.signal_strength,
        translation_key=None,  # named by its device class, as core does
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        state_class=SensorStateClass.MEASUREMENT,
    ),
    _diagnostic("ssid", lambda info: info.ssid),
    _diagnostic("ip_address", lambda info: info.ip_address),
    _diagnostic("mdns_name", lambda info: info.mdns_name),
    _diagnostic("firmware_version", lambda info: info.firmware),
    _diagnostic(
        "free_heap",
        lambda info: info.free_heap,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_unit_of_measurement=UnitOfInformation.KILOBYTES,
        suggested_display_precision=0,
    ),
    _diagnostic("uptime", lambda info: info.uptime),
)
LED_SENSOR = DeviceSensorDescription[LedStatus](
    key="led_status",
    translation_key="led_status",
    device_class=SensorDeviceClass.ENUM,
    entity_category=EntityCategory.DIAGNOSTIC,
    options=LED_STATES,
    value_fn=lambda led: (led.status or "").lower() or None,
)


class DeviceSensor(WattwaechterEntity[WattwaechterCoordinator[Any]], SensorEntity):
    """A value of the device itself (system info, LED status)."""

    entity_description: DeviceSensorDescription[Any]

    def __init__(
        self,
        coordinator: WattwaechterCoordinator[Any],
        description: DeviceSensorDescription[Any],
    ) -> None:
        """Bind the sensor to its coordinator."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> StateType | datetime:
        """Return the value; a LED status this integration does not know is unknown."""
        value = self.entity_description.value_fn(self.coordinator.data)
        options = self.entity_description.options
        return None if options and value not in options else value


class LastReadingSensor(WattwaechterEntity[MeterCoordinator], SensorEntity):
    """When the meter last delivered a new reading."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_translation_key = "last_reading"

    def __init__(self, coordinator: MeterCoordinator) -> None:
        """Bind the sensor to the meter."""
        super().__init__(coordinator, "last_reading")

    @property
    def native_value(self) -> datetime | None:
        """Return the time of the last fresh reading."""
        return self.coordinator.last_fresh


class ActiveTariffSensor(WattwaechterEntity[MeterCoordinator], SensorEntity):
    """Which tariff register counts now, from the registers' growth.

    The registers count whole Wh: at a low load they grow every few updates
    only, so a tariff stays shown until nothing grew for ``TARIFF_HOLD``.
    """

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options: list[str] = [f"tariff_{code[-1]}" for code in TARIFFS]  # noqa: RUF012
    _attr_translation_key = "active_tariff"

    def __init__(self, coordinator: MeterCoordinator) -> None:
        """Bind the sensor to the tariff registers."""
        super().__init__(coordinator, "active_tariff")
        self._totals: dict[str, float] = {}
        self._judged: MeterReading | None = None
        self._grown_at = float("-inf")
        self._attr_native_value = None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Find the register that grew since the last reading."""
        reading = self.coordinator.data
        if reading is not self._judged and not self.coordinator.stale:
            self._judged = reading
            totals = {
                code: value
                for code in TARIFFS
                if (register := reading.values.get(code))
                and (value := register.number) is not None
            }
            grown = [
                code
                for code, value in totals.items()
                if code in self._totals and value > self._totals[code]
            ]
            now = self.hass.loop.time()
            if grown:
                self._attr_native_value = f"tariff_{grown[0][-1]}"
                self._grown_at = now
            elif now - self._grown_at > TARIFF_HOLD:
                self._attr_native_value = None  # nothing consumed
            self._totals = totals
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """Return False while the reading is stale."""
        return super().available and not self.coordinator.stale
