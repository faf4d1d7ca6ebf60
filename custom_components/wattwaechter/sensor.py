"""Sensors: one per OBIS register the meter reports, and the device's own state.

A meter total passes its glitch guard (guard.py) before it reaches the state
machine; any other reading beyond its register's plausible range is held back.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .api.models import MeterReading
from .coordinator import MeterCoordinator, WattwaechterConfigEntry
from .device_sensor import LAST_READING, LED_SENSOR, SYSTEM_SENSORS, DeviceSensor
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

# OBIS media (value group A) a gas or water device no longer meters.
OTHER_MEDIA = {"gas": ("8", "9"), "water": ("7",)}
TARIFFS = [f"1.8.{n}" for n in range(1, 10)]
TARIFF_HOLD = 900.0  # seconds a tariff stays shown while no register grows


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors; a register that shows up later gets its own at once."""
    runtime = entry.runtime_data
    meter = runtime.meter
    registry = er.async_get(hass)
    known: set[str] = set()  # registers that have their sensor or need none
    medium: str | None = None

    @callback
    def add_new_registers() -> None:
        nonlocal medium
        reading = meter.data
        if reading.medium == medium and reading.values.keys() <= known:
            return  # the usual update: nothing new
        other = OTHER_MEDIA.get(reading.medium or "", ())
        if reading.medium != medium:  # the other medium's sensors go (as core)
            medium = reading.medium
            for old in er.async_entries_for_config_entry(registry, entry.entry_id):
                code = old.unique_id.partition("_")[2]
                if split_code(code)[0] in other:
                    known.discard(code)
                    registry.async_remove(old.entity_id)
        new: list[SensorEntity] = []
        for code, register in reading.values.items():
            if code in known or split_code(code)[0] in other:
                continue
            known.add(code)
            if is_identifier(code):
                continue
            description = KNOWN_OBIS.get(code) or generic_description(register)
            cls = EnergyTotalSensor if description.is_total else ObisSensor
            new.append(cls(meter, description))
            if code in TARIFFS and "tariff" not in known:
                known.add("tariff")
                new.append(ActiveTariffSensor(meter))
        async_add_entities(new)

    add_new_registers()
    entry.async_on_unload(meter.async_add_listener(add_new_registers))
    device = [DeviceSensor(runtime.system, d) for d in SYSTEM_SENSORS]
    device.append(DeviceSensor(meter, LAST_READING))
    if runtime.led.supported:
        device.append(DeviceSensor(runtime.led, LED_SENSOR))
    async_add_entities(device)


class MeterSensor(WattwaechterEntity[MeterCoordinator], SensorEntity):
    """Takes each fresh reading once: a guard measures from fresh readings only."""

    _judged: MeterReading | None = None
    _value: StateType = None

    @property
    def native_value(self) -> StateType:
        """Return the value taken from the last fresh reading.

        Not ``_attr_native_value``: its setter clears a cached property that
        the state write then computes again, at every update of every entity.
        """
        return self._value

    @callback
    def _handle_coordinator_update(self) -> None:
        self._take_fresh()
        self.async_write_ha_state()

    def _take_fresh(self) -> None:
        reading = self.coordinator.data
        if reading is not self._judged and not self.coordinator.stale:
            self._judged = reading
            self._take_reading(reading)

    def _take_reading(self, reading: MeterReading) -> None:
        raise NotImplementedError

    @property
    def available(self) -> bool:
        """Return False while the device is away or the reading is stale."""
        meter = self.coordinator  # the meter, which the base class asks again
        return meter.last_update_success and not meter.stale


class ObisSensor(MeterSensor):
    """One OBIS register; a misread beyond the plausible range is held back."""

    entity_description: ObisSensorDescription
    _held = False

    async def async_added_to_hass(self) -> None:
        """Take the current reading once the entity is known."""
        await super().async_added_to_hass()
        self._take_fresh()

    @property
    def available(self) -> bool:
        """Return False while the reading lacks this register."""
        key = self.entity_description.key
        return super().available and key in self.coordinator.data.values

    def _take_reading(self, reading: MeterReading) -> None:
        register = reading.values.get(self.entity_description.key)
        if register is None or self.entity_description.text:
            self._value = register.text if register else None
            return
        number, text = register.number, register.text or ""
        if number is not None and text.removeprefix("-").isdecimal():
            number = int(number)  # written without decimals: shown so
        self._take(number)

    def _take(self, value: float | None) -> None:
        limit = self.entity_description.limit
        held = value is not None and limit is not None and abs(value) > limit
        if not held:
            self._value = value
        elif not self._held:
            _LOGGER.warning(
                "%s: ignoring %s, beyond what a household connection carries; "
                "keeping %s",
                self.entity_id,
                value,
                self._value,
            )
        self._held = held


class EnergyTotalSensor(ObisSensor, RestoreSensor):
    """A meter total whose glitches never reach the state machine.

    The last good value survives a restart, to catch a glitch right after it.
    Gas and water volumes start a new cycle with the device's ``meterSince``.
    """

    _since: int | None = None

    def __init__(
        self, coordinator: MeterCoordinator, description: ObisSensorDescription
    ) -> None:
        """Set up the register's guard, which the diagnostics show too."""
        super().__init__(coordinator, description)
        self.guard = CounterGuard(max_rate(description.native_unit_of_measurement))
        coordinator.config_entry.runtime_data.guards[description.key] = self.guard

    async def async_added_to_hass(self) -> None:
        """Restore the last good value (in this unit) and the cycle's start."""
        state = await self.async_get_last_state()
        last = await self.async_get_last_sensor_data()
        unit = self.entity_description.native_unit_of_measurement
        if state and last and last.native_unit_of_measurement == unit:
            if isinstance(last.native_value, int | float):
                age = (dt_util.utcnow() - state.last_updated).total_seconds()
                at = self.hass.loop.time() - max(age, 0.0)
                self.guard.restore(float(last.native_value), at)
            if since := dt_util.parse_datetime(str(state.attributes.get("last_reset"))):
                self._since = int(since.timestamp())
        await super().async_added_to_hass()

    def _take(self, value: float | None) -> None:
        if value is None:
            self._value = None
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
        self._value = self.guard.value

    @property
    def last_reset(self) -> datetime | None:
        """Return when the gas or water meter reading started (``meterSince``)."""
        if self.state_class is not SensorStateClass.TOTAL or self._since is None:
            return None
        return datetime.fromtimestamp(self._since, UTC)


class ActiveTariffSensor(MeterSensor):
    """Which tariff register counts now, from the registers' growth.

    They count whole Wh: at a low load they grow every few updates only, so a
    tariff stays shown until nothing grew for ``TARIFF_HOLD`` seconds.
    """

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [f"tariff_{code[-1]}" for code in TARIFFS]  # noqa: RUF012
    _attr_translation_key = "active_tariff"
    _grown_at = float("-inf")
    _totals: dict[str, float] | None = None

    def _take_reading(self, reading: MeterReading) -> None:
        totals = {
            code: value
            for code in TARIFFS
            if (register := reading.values.get(code))
            and (value := register.number) is not None
        }
        before, self._totals = self._totals or {}, totals
        grown = [
            code for code, value in totals.items() if value > before.get(code, value)
        ]
        now = self.hass.loop.time()
        if grown:
            self._value = f"tariff_{grown[0][-1]}"
            self._grown_at = now
        elif now - self._grown_at > TARIFF_HOLD:
            self._value = None  # nothing consumed
