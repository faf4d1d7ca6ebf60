"""Sensors: one per OBIS register the meter reports, plus the device's own state.

The device's own sensors (system info, LED status, last reading, active
tariff) are in device_sensor.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging
import re

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api.models import MeterReading, ObisValue
from .coordinator import (
    MeterCoordinator,
    WattwaechterConfigEntry,
)
from .device_sensor import (
    LED_SENSOR,
    SYSTEM_SENSORS,
    TARIFFS,
    ActiveTariffSensor,
    DeviceSensor,
    LastReadingSensor,
)
from .entity import WattwaechterEntity
from .guard import CounterGuard, Verdict, max_rate
from .obis import (
    KNOWN_OBIS,
    ObisSensorDescription,
    generic_description,
    is_identifier,
    split_code,
)

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0

OTHER_MEDIA = {"gas": ("8", "9"), "water": ("7",)}
"""OBIS media (value group A) a gas/water device no longer meters, by medium."""
_INTEGER = re.compile(r"-?\d+")


def as_written(register: ObisValue) -> float | None:
    """Return the register's number; one written without decimals stays an int."""
    number = register.number
    if number is not None and register.text and _INTEGER.fullmatch(register.text):
        return int(number)
    return number


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors; a register that shows up later gets its own at once."""
    runtime = entry.runtime_data
    meter = runtime.meter
    registry = er.async_get(hass)
    known: set[str] = set()

    @callback
    def add_new_registers() -> None:
        other = OTHER_MEDIA.get(meter.data.medium or "", ()) if meter.data else ()
        if other:  # a gas/water device that meters the other medium now (as core)
            for old in er.async_entries_for_config_entry(registry, entry.entry_id):
                code = old.unique_id.partition("_")[2]
                if ":" in code and split_code(code)[0] in other:
                    known.discard(code)
                    registry.async_remove(old.entity_id)
        new: list[SensorEntity] = []
        for code, register in (meter.data.values if meter.data else {}).items():
            if code in known or is_identifier(code) or split_code(code)[0] in other:
                continue
            known.add(code)
            description = KNOWN_OBIS.get(code) or generic_description(register)
            cls = EnergyTotalSensor if description.is_total else ObisSensor
            new.append(cls(meter, description))
            if code in TARIFFS and "tariff" not in known:
                known.add("tariff")
                new.append(ActiveTariffSensor(meter))
        async_add_entities(new)

    add_new_registers()
    entry.async_on_unload(meter.async_add_listener(add_new_registers))
    device: list[SensorEntity] = [
        DeviceSensor(runtime.system, description) for description in SYSTEM_SENSORS
    ]
    device.append(LastReadingSensor(meter))
    if runtime.led.supported:
        device.append(DeviceSensor(runtime.led, LED_SENSOR))
    async_add_entities(device)


class ObisSensor(WattwaechterEntity[MeterCoordinator], SensorEntity):
    """One OBIS register; a misread beyond the plausible range is held back."""

    entity_description: ObisSensorDescription

    def __init__(
        self, coordinator: MeterCoordinator, description: ObisSensorDescription
    ) -> None:
        """Bind the sensor to its register."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self._judged: MeterReading | None = None
        self._held = False

    async def async_added_to_hass(self) -> None:
        """Take the current reading once the entity is known."""
        await super().async_added_to_hass()
        await self._async_restore()
        self._judge()

    async def _async_restore(self) -> None:
        """Restore what the value depends on from before a restart."""

    @callback
    def _handle_coordinator_update(self) -> None:
        """Judge a new reading before the state is written."""
        self._judge()
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """Return False while the reading is stale or lacks this register."""
        return (
            super().available
            and not self.coordinator.stale
            and self.entity_description.key in self.coordinator.data.values
        )

    def _judge(self) -> None:
        """Take the register's value from a fresh reading not seen before.

        Readings repeated while the head is off are no news: a total's guard
        measures the next rise from the last fresh reading, not from them.
        """
        reading = self.coordinator.data
        if reading is None or reading is self._judged or self.coordinator.stale:
            return
        self._judged = reading
        register = reading.values.get(self.entity_description.key)
        if register is None or self.entity_description.text:
            self._attr_native_value = register.text if register else None
            return
        self._take(as_written(register))

    def _take(self, value: float | None) -> None:
        """Show ``value`` unless it is beyond the register's plausible range."""
        limit = self.entity_description.limit
        if value is None or limit is None or abs(value) <= limit:
            self._attr_native_value, self._held = value, False
            return
        if not self._held:
            _LOGGER.warning(
                "%s: ignoring %s, beyond what a household connection carries; "
                "keeping %s",
                self.entity_id,
                value,
                self._attr_native_value,
            )
        self._held = True


class EnergyTotalSensor(ObisSensor, RestoreSensor):
    """A meter total whose glitches never reach the state machine.

    Each new reading passes the register's guard; the last good value survives
    a restart, so a glitch in the first reading after it is caught too. Gas
    and water volumes start a new cycle with the device's ``meterSince``.
    """

    def __init__(
        self, coordinator: MeterCoordinator, description: ObisSensorDescription
    ) -> None:
        """Set up the register's guard (100 kWh or 40 m³ per hour at most)."""
        super().__init__(coordinator, description)
        self.guard = CounterGuard(max_rate(description.native_unit_of_measurement))
        coordinator.config_entry.runtime_data.guards[description.key] = self.guard
        self._since: int | None = None

    async def _async_restore(self) -> None:
        """Restore the last good value (in this unit) and the cycle's start."""
        state = await self.async_get_last_state()
        last = await self.async_get_last_sensor_data()
        unit = self.entity_description.native_unit_of_measurement
        if not state or not last or last.native_unit_of_measurement != unit:
            return
        if isinstance(last.native_value, int | float):
            age = (dt_util.utcnow() - state.last_updated).total_seconds()
            now = self.hass.loop.time()
            self.guard.restore(float(last.native_value), now - max(age, 0.0))
        if since := dt_util.parse_datetime(str(state.attributes.get("last_reset"))):
            self._since = int(since.timestamp())  # an exchange meanwhile is seen

    def _take(self, value: float | None) -> None:
        """Pass ``value`` to the guard; show the last good value."""
        if value is None:
            self._attr_native_value = None
            return
        now = self.hass.loop.time()
        since = self.coordinator.data.meter_since
        if since is not None and since != self._since:
            if self._since is not None:  # a meter exchange: a new cycle
                self.guard.restore(value, now)
            self._since = since
        good, verdict = self.guard.value, self.guard.check(value, now)
        if verdict is Verdict.REPLACED or (verdict.is_glitch and not self._held):
            _LOGGER.warning(
                "%s: %s %s (last good value %s)",
                self.entity_id,
                "accepting the new meter reading"
                if verdict is Verdict.REPLACED
                else f"ignoring the reading ({verdict})",
                value,
                good,
            )
        self._held = verdict.is_glitch
        self._attr_native_value = self.guard.value

    @property
    def last_reset(self) -> datetime | None:
        """Return when the gas or water meter reading started (``meterSince``)."""
        if self.state_class is not SensorStateClass.TOTAL or self._since is None:
            return None
        return datetime.fromtimestamp(self._since, UTC)
