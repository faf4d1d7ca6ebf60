"""Update entity: the device firmware, installed with progress from what it shows.

The REST API has no progress endpoint. Installing starts the update, then
follows the device through the coordinators' updates until it runs the new
version: the LED shows ``OTA_ACTIVE`` while it downloads (25-60 %), the meter
stops answering while it flashes and reboots (70 %), answers again (90 %), and
the system info names the new version (100 %).
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
from .const import CONF_FW_VERSION
from .coordinator import OtaCoordinator, WattwaechterConfigEntry, device_id
from .entity import WattwaechterEntity, action
from .errors import action_error

PARALLEL_UPDATES = 1

INSTALL_TIMEOUT: Final = 600.0
"""An install that has not shown the new version by then has failed."""


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

    def __init__(self, coordinator: OtaCoordinator) -> None:
        """Bind the entity; core's update entity has the bare device ID as ID."""
        super().__init__(coordinator, "firmware")
        self._attr_unique_id = device_id(coordinator.config_entry)
        self._runtime = coordinator.config_entry.runtime_data
        self._target: str | None = None
        self._away = self._back = self._downloading = False
        self._done: asyncio.Future[None] | None = None

    async def async_added_to_hass(self) -> None:
        """Follow the meter, the LED and the system info during an install."""
        await super().async_added_to_hass()
        runtime = self._runtime
        for coordinator, follow in (
            (self._meter, self._async_on_meter),
            (runtime.led, self._async_on_led),
            (runtime.system, self._async_on_system),
        ):
            self.async_on_remove(coordinator.async_add_listener(follow))

    @property
    def available(self) -> bool:
        """Return True while the device answers, and always during an install.

        An OTA check that failed (the vendor's server away) leaves the entity
        available: the installed version is known, the latest one unknown.
        After a reboot the system info answers just before the meter does.
        """
        meter, system = self._meter, self._runtime.system
        answers = meter.last_update_success or (
            meter.verified and system.last_update_success
        )
        return self._done is not None or answers

    @property
    def installed_version(self) -> str | None:
        """Return the firmware the device runs."""
        system = self._runtime.system.data
        if system is not None and system.firmware:
            return system.firmware
        version: str | None = self.coordinator.config_entry.data.get(CONF_FW_VERSION)
        return version

    @property
    def _offer(self) -> OtaInfo | None:
        ota = self.coordinator.data
        if ota is None or not ota.update_available or not ota.version:
            return None
        return ota

    @property
    def latest_version(self) -> str | None:
        """Return the version on offer, or the installed one when there is none."""
        if self.coordinator.data is None:
            return None
        offer = self._offer
        return offer.version if offer else self.installed_version

    @property
    def release_summary(self) -> str | None:
        """Return the release note in HA's language (HA cuts it to 255 chars)."""
        return self._note(self._offer) if self._offer else None

    async def async_release_notes(self) -> str | None:
        """Return the version, its date and its note as Markdown."""
        if (offer := self._offer) is None:
            return None
        heading = f"## {offer.version}"
        if offer.release_date:
            heading += f" ({offer.release_date})"
        note = self._note(offer)
        return f"{heading}\n\n{note}" if note else heading

    def _note(self, offer: OtaInfo) -> str | None:
        if (self.hass.config.language or "").lower().startswith("de"):
            return offer.release_note_de or offer.release_note_en
        return offer.release_note_en or offer.release_note_de

    async def async_install(
        self, version: str | None, backup: bool, **kwargs: Any
    ) -> None:
        """Start the update, then wait until the device runs the new version."""
        await self._async_install(version or self.latest_version)

    @action
    async def _async_install(self, target: str | None) -> None:
        host = self._runtime.client.host
        if not await self._runtime.client.ota_start(Priority.ACTION):
            raise action_error("ota_rejected", host)
        self._target, self._away, self._back = target, False, False
        self._downloading = False
        self._done = self.hass.loop.create_future()
        self._runtime.restart.expect()
        self._progress(5)
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

    def _installing(self) -> bool:
        return self._done is not None and not self._done.done()

    @callback
    def _async_on_meter(self) -> None:
        """Follow the device going away (flashing, rebooting) and coming back."""
        if not self._installing():
            return
        if not self._meter.last_update_success:
            self._away = True
            self._progress(70)
        elif self._away:
            self._async_back()
        elif self._runtime.led.supported:
            # Still downloading: the LED tells (one request per meter update).
            self.hass.async_create_task(self._runtime.led.async_request_refresh())

    @callback
    def _async_on_led(self) -> None:
        """Follow the download; a LED that leaves OTA_ACTIVE rebooted already."""
        led = self._runtime.led.data
        if not self._installing() or self._away or self._back or led is None:
            return
        if led.status == "OTA_ACTIVE":
            self._downloading = True
            self._progress(min(max(self._attr_update_percentage or 0, 20) + 5, 60))
        elif self._downloading:  # rebooted between two meter updates
            self._async_back()
            self.hass.async_create_task(self._runtime.system.async_request_refresh())

    @callback
    def _async_back(self) -> None:
        self._back = True
        self._progress(90)

    @callback
    def _async_on_system(self) -> None:
        """End the install on the new version, or fail on the old one.

        After the reboot the system info may be the first answer (it tells
        who answers before the meter is read): it means back, too.
        """
        version = self.installed_version
        if self._installing() and self._done is not None:
            answered = self._runtime.system.last_update_success
            if self._away and not self._back and answered:
                self._async_back()
            if version == self._target:
                self._done.set_result(None)
            elif self._back:
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
        """Report a phase; the percentage never goes down."""
        self._attr_in_progress = True
        current = self._attr_update_percentage
        self._attr_update_percentage = max(percentage, current or 0)
        self.async_write_ha_state()
