"""Update entity: the device firmware, installed with progress from what it shows.

There is no progress endpoint: the LED shows ``OTA_ACTIVE`` while the device
downloads, the meter stops answering while it flashes and reboots, and once
it answers again the system info names the new version.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.budget import Priority
from .api.models import OtaInfo
from .coordinator import OtaCoordinator, WattwaechterConfigEntry, device_id
from .entity import WattwaechterEntity, action, firmware
from .errors import action_error

PARALLEL_UPDATES = 1

INSTALL_TIMEOUT: Final = 600.0  # not on the new version by then: failed
# The progress (%) each phase shows; the percentage shown is the phase reached.
STARTED, DOWNLOADING, DOWNLOADED, AWAY, BACK = 5, 25, 60, 70, 90


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the firmware update entity when the firmware can check for updates."""
    if entry.runtime_data.ota.supported:
        async_add_entities([FirmwareUpdate(entry.runtime_data.ota)])


class FirmwareUpdate(WattwaechterEntity[OtaCoordinator], UpdateEntity):
    """The device firmware; ``homeassistant.update_entity`` asks the server again."""

    _attr_device_class = UpdateDeviceClass.FIRMWARE
    _attr_supported_features = (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.RELEASE_NOTES
    )
    _attr_translation_key = "firmware"
    _target: str | None = None
    _done: asyncio.Future[None] | None = None

    def __init__(self, coordinator: OtaCoordinator) -> None:
        """Take core's unique ID for the update entity: the bare device ID."""
        super().__init__(coordinator)
        self._attr_unique_id = device_id(coordinator.config_entry)
        self._runtime = coordinator.config_entry.runtime_data

    async def async_added_to_hass(self) -> None:
        """Follow the meter, the LED and the system info during an install."""
        await super().async_added_to_hass()
        runtime = self._runtime
        self.async_on_remove(self._meter.async_add_listener(self._async_on_meter))
        self.async_on_remove(runtime.led.async_add_listener(self._async_on_led))
        self.async_on_remove(runtime.system.async_add_listener(self._async_on_system))

    @property
    def available(self) -> bool:
        """Return True while the device answers, and always during an install."""
        # Not the OTA check: that is the vendor's server. After a reboot the
        # system info answers just before the meter does.
        meter, system = self._meter, self._runtime.system
        answers = meter.last_update_success or (
            meter.verified and system.last_update_success
        )
        return self._done is not None or answers

    @property
    def installed_version(self) -> str | None:
        """Return the firmware the device runs."""
        return firmware(self.coordinator.config_entry)

    @property
    def _offer(self) -> OtaInfo | None:
        ota = self.coordinator.data
        return ota if ota and ota.update_available and ota.version else None

    @property
    def latest_version(self) -> str | None:
        """Return the version on offer, or the installed one when there is none."""
        if self.coordinator.data is None:
            return None
        return self._offer.version if self._offer else self.installed_version

    @property
    def release_summary(self) -> str | None:
        """Return the release note in HA's language (HA cuts it to 255 chars)."""
        if (offer := self._offer) is None:
            return None
        if (self.hass.config.language or "").lower().startswith("de"):
            return offer.release_note_de or offer.release_note_en
        return offer.release_note_en or offer.release_note_de

    async def async_release_notes(self) -> str | None:
        """Return the version, its date and its note as Markdown."""
        if (offer := self._offer) is None:
            return None
        heading = f"## {offer.version}"
        if offer.release_date:
            heading += f" ({offer.release_date})"
        return f"{heading}\n\n{note}" if (note := self.release_summary) else heading

    @action
    async def async_install(
        self, /, version: str | None, backup: bool, **kwargs: Any
    ) -> None:
        """Start the update, then wait until the device runs the new version."""
        host = self._runtime.client.host
        if not await self._runtime.client.ota_start(Priority.ACTION):
            raise action_error("ota_rejected", host)
        self._target = version or self.latest_version
        self._done = self.hass.loop.create_future()
        self._runtime.restart.expect()
        self._progress(STARTED)
        try:
            async with asyncio.timeout(INSTALL_TIMEOUT):
                await self._done
            self._progress(100)
        except TimeoutError:
            raise action_error(
                "ota_timeout",
                host,
                minutes=f"{INSTALL_TIMEOUT / 60:.0f}",
                version=self.installed_version or "?",
            ) from None
        finally:
            self._done = None
            self._attr_in_progress = False
            self._attr_update_percentage = None
            self.async_write_ha_state()

    @property
    def _phase(self) -> float:
        """Return the phase a running install reached (0 when none runs)."""
        if self._done is None or self._done.done():
            return 0
        return self._attr_update_percentage or 0

    @callback
    def _async_on_meter(self) -> None:
        """Follow the device going away (flashing, rebooting) and coming back."""
        if not (phase := self._phase):
            return
        if not self._meter.last_update_success:
            self._progress(AWAY)
        elif phase >= AWAY:
            self._progress(BACK)
        elif self._runtime.led.supported:
            # Still downloading: the LED tells (one request per meter update).
            self.hass.async_create_task(self._runtime.led.async_request_refresh())

    @callback
    def _async_on_led(self) -> None:
        """Follow the download; a LED that leaves OTA_ACTIVE rebooted already."""
        led = self._runtime.led.data
        if not (phase := self._phase) or phase >= AWAY or led is None:
            return
        if led.status == "OTA_ACTIVE":
            self._progress(min(max(phase + 5, DOWNLOADING), DOWNLOADED))
        elif phase >= DOWNLOADING:  # rebooted between two meter updates
            self._progress(BACK)
            self.hass.async_create_task(self._runtime.system.async_request_refresh())

    @callback
    def _async_on_system(self) -> None:
        """End the install on the new version, or fail on the old one once back."""
        if self._done and (phase := self._phase):
            # After the reboot the system info may answer before the meter.
            if AWAY <= phase < BACK and self._runtime.system.last_update_success:
                self._progress(BACK)
            if (version := self.installed_version) == self._target:
                self._done.set_result(None)
            elif self._phase >= BACK:
                self._done.set_exception(
                    action_error(
                        "ota_old_version",
                        self._runtime.client.host,
                        version=version or "?",
                        target=self._target or "?",
                    )
                )
        self.async_write_ha_state()

    def _progress(self, percentage: float) -> None:
        """Show a phase reached; the percentage never goes down."""
        self._attr_in_progress = True
        self._attr_update_percentage = max(percentage, self._phase)
        self.async_write_ha_state()
