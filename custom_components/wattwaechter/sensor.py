"""Sensors: one per OBIS register the meter reports, plus system diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import logging

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfEnergy,
    UnitOfInformation,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .api import MeterReading, SystemInfo
from .coordinator import (
    ControlsCoordinator,
    MeterCoordinator,
    SystemCoordinator,
    WattwaechterConfigEntry,
)
from .entity import WattwaechterEntity
from .guard import MAX_FLOW_M3H, MAX_POWER_KW, CounterGuard, Verdict
from .obis import KNOWN_OBIS, ObisSensorDescription, generic_description

_LOGGER = logging.getLogger(__name__)

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
            obis_sensor(meter, KNOWN_OBIS.get(code) or generic_description(register))
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


def obis_sensor(
    coordinator: MeterCoordinator, description: ObisSensorDescription
) -> ObisSensor:
    """Return the sensor of one register; meter totals get the glitch guard."""
    if description.is_energy_total:
        return EnergyTotalSensor(coordinator, description)
    return ObisSensor(coordinator, description)


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


class EnergyTotalSensor(ObisSensor, RestoreSensor):
    """A meter total (kWh, m³) whose glitches never reach the state machine.

    Each new reading passes the register's ``CounterGuard`` once; the entity
    shows the last value the guard accepted. The last good value survives a
    restart, so a glitch in the first reading after it is caught too.
    """

    def __init__(
        self, coordinator: MeterCoordinator, description: ObisSensorDescription
    ) -> None:
        """Bind the sensor to its register and set up its guard."""
        super().__init__(coordinator, description)
        kwh = description.native_unit_of_measurement == UnitOfEnergy.KILO_WATT_HOUR
        self.guard = CounterGuard(MAX_POWER_KW if kwh else MAX_FLOW_M3H)
        coordinator.config_entry.runtime_data.guards[description.key] = self.guard
        self._judged: MeterReading | None = None
        self._glitch: Verdict | None = None
        self._unreadable = False

    async def async_added_to_hass(self) -> None:
        """Start from the last good value before a restart, then judge the data."""
        await super().async_added_to_hass()
        last_state = await self.async_get_last_state()
        last = await self.async_get_last_sensor_data()
        if (
            last_state is not None
            and last is not None
            and isinstance(last.native_value, int | float)
            and last.native_unit_of_measurement
            == self.entity_description.native_unit_of_measurement
        ):
            age = (dt_util.utcnow() - last_state.last_updated).total_seconds()
            self.guard.restore(
                float(last.native_value), self.hass.loop.time() - max(age, 0.0)
            )
        self._judge()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Judge a new reading before the state is written."""
        self._judge()
        super()._handle_coordinator_update()

    def _judge(self) -> None:
        """Pass the register's value of a reading not seen before to the guard."""
        reading = self.coordinator.data
        if reading is None or reading is self._judged:
            return
        self._judged = reading
        register = reading.values.get(self.entity_description.key)
        value = register.number if register is not None else None
        self._unreadable = value is None
        if value is None:
            return
        good = self.guard.value
        candidate = self.guard.candidate
        now = self.hass.loop.time()
        verdict = self.guard.check(value, now)
        unit = self.entity_description.native_unit_of_measurement
        if verdict is Verdict.REPLACED:
            first_at = candidate[2] if candidate else now
            _LOGGER.warning(
                "%s: accepting %s %s as the new meter reading instead of %s %s; "
                "it held for %.0f minutes (meter replaced?)",
                self.entity_id,
                value,
                unit,
                good,
                unit,
                (now - first_at) / 60,
            )
            self._glitch = None
        elif verdict.is_glitch:
            if self._glitch is None:
                _LOGGER.warning(
                    "%s: ignoring the reading %s %s (%s; last good value %s %s); "
                    "the entity keeps the last good value",
                    self.entity_id,
                    value,
                    unit,
                    verdict,
                    good,
                    unit,
                )
            else:
                _LOGGER.debug("%s: still ignoring %s %s", self.entity_id, value, unit)
            self._glitch = verdict
        elif self._glitch is not None:
            _LOGGER.debug("%s: plausible again at %s %s", self.entity_id, value, unit)
            self._glitch = None

    @property
    def native_value(self) -> StateType:
        """Return the last good value; unknown while the value is unreadable."""
        if self._unreadable:
            return None
        return self.guard.value


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
