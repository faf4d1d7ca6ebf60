"""Update entity: the device firmware.

The latest version, its release notes and date come from ``/ota/check`` (every
6 hours, and when the user asks HA to check). Installing calls ``/ota/start``
and then follows the phases the device really shows, polling every few
seconds; the REST API has no progress endpoint.

====================================  ==========  ==================================
phase                                 percentage  seen as
====================================  ==========  ==================================
1 started                             5           ``/ota/start`` answered ``ok``
2 downloading                         25 ... 60   LED ``OTA_ACTIVE`` (or still up)
3 flashing, rebooting                 70          no answer
4 back online                         90          ``/system/alive`` answers again
5 verified                            100         ``/system/alive`` has the new version
====================================  ==========  ==================================
"""

from __future__ import annotations

from asyncio import sleep
from typing import Any, Final

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import (
    OtaInfo,
    Priority,
    WattwaechterBadResponseError,
    WattwaechterClient,
    WattwaechterConnectionError,
    WattwaechterRetryLaterError,
)
from .const import CONF_FW_VERSION
from .coordinator import (
    OtaCoordinator,
    SystemCoordinator,
    WattwaechterConfigEntry,
    WattwaechterRuntimeData,
)
from .entity import WattwaechterEntity, device_id
from .helpers import action_error, wattwaechter_exception_handler

PARALLEL_UPDATES = 1

OTA_POLL_INTERVAL: Final = 5.0
"""Seconds between two looks at the device during an install."""
OTA_TIMEOUT: Final = 600.0
"""An install that has not verified the new version by then has failed."""

PROGRESS_STARTED: Final = 5
PROGRESS_DOWNLOADING: Final = 25
PROGRESS_DOWNLOADING_STEP: Final = 5
PROGRESS_DOWNLOADING_MAX: Final = 60
PROGRESS_REBOOTING: Final = 70
PROGRESS_BACK: Final = 90
PROGRESS_VERIFIED: Final = 100

LED_OTA_ACTIVE: Final = "OTA_ACTIVE"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WattwaechterConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the firmware update entity."""
    runtime = entry.runtime_data
    async_add_entities([FirmwareUpdate(runtime.ota, runtime.system)])


class FirmwareUpdate(WattwaechterEntity[OtaCoordinator], UpdateEntity):
    """The device firmware; ``homeassistant.update_entity`` asks the server again."""

    _attr_device_class = UpdateDeviceClass.FIRMWARE
    _attr_supported_features = (
        UpdateEntityFeature.INSTALL
        | UpdateEntityFeature.PROGRESS
        | UpdateEntityFeature.RELEASE_NOTES
    )
    _attr_translation_key = "firmware"

    def __init__(self, coordinator: OtaCoordinator, system: SystemCoordinator) -> None:
        """Bind the entity to the OTA check and the system info (installed version)."""
        super().__init__(coordinator, "firmware")
        # HA core's update entity has the bare device ID as its unique ID.
        self._attr_unique_id = device_id(coordinator.config_entry)
        self._system = system

    async def async_added_to_hass(self) -> None:
        """Follow the system info too: it carries the installed version."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._system.async_add_listener(self._handle_coordinator_update)
        )

    @property
    def available(self) -> bool:
        """Return True while the device answers, and always during an install."""
        return self._attr_in_progress or self._system.last_update_success

    @property
    def installed_version(self) -> str | None:
        """Return the firmware the device runs (``/system/info``)."""
        if self._system.data is not None and self._system.data.firmware:
            return self._system.data.firmware
        version: str | None = self.coordinator.config_entry.data.get(CONF_FW_VERSION)
        return version

    @property
    def _offer(self) -> OtaInfo | None:
        """Return the update on offer, or None."""
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
        offer = self._offer
        return self._note(offer) if offer else None

    async def async_release_notes(self) -> str | None:
        """Return the version, release date and note as Markdown."""
        offer = self._offer
        if offer is None:
            return None
        heading = f"## {offer.version}"
        if offer.release_date:
            heading += f" ({offer.release_date})"
        note = self._note(offer)
        return f"{heading}\n\n{note}" if note else heading

    def _note(self, offer: OtaInfo) -> str | None:
        """Pick the German note for a German HA, else the English one."""
        german = (self.hass.config.language or "").lower().startswith("de")
        if german:
            return offer.release_note_de or offer.release_note_en
        return offer.release_note_en or offer.release_note_de

    async def async_install(
        self, version: str | None, backup: bool, **kwargs: Any
    ) -> None:
        """Start the update and follow it until the new version answers."""
        await self._async_install(self.latest_version)

    @wattwaechter_exception_handler
    async def _async_install(self, target: str | None) -> None:
        """Install ``target``; the progress is always cleared at the end."""
        runtime = self.coordinator.config_entry.runtime_data
        self._attr_in_progress = True
        self._attr_update_percentage = None
        self.async_write_ha_state()
        try:
            if not await runtime.client.ota_start():
                raise action_error("ota_rejected", runtime.client.host)
            self._progress(PROGRESS_STARTED)
            runtime.pause_polling(OTA_TIMEOUT, f"installs firmware {target}")
            running = await self._async_follow(runtime.client, target)
            await self._async_refresh_all(runtime)
            running = running or self.installed_version
            if running != target:
                raise action_error(
                    "ota_old_version",
                    runtime.client.host,
                    version=running or "?",
                    target=target or "?",
                )
            self._progress(PROGRESS_VERIFIED)
        finally:
            # Also on errors and cancellation: no progress left behind.
            runtime.resume_polling()
            self._attr_in_progress = False
            self._attr_update_percentage = None
            self.async_write_ha_state()

    async def _async_follow(
        self, client: WattwaechterClient, target: str | None
    ) -> str | None:
        """Poll until the device is back; return the version it then reports.

        Before the device goes away, one ``/system/led`` request per step tells
        whether it still downloads. Once it answered nothing, one
        ``/system/alive`` request per step waits for it to come back.
        """
        deadline = self.hass.loop.time() + OTA_TIMEOUT
        went_away = False
        download_seen = False
        last_version = self.installed_version
        while self.hass.loop.time() < deadline:
            await sleep(OTA_POLL_INTERVAL)
            try:
                if not went_away:
                    led = await client.led(Priority.ACTION)
                    if led.status == LED_OTA_ACTIVE:
                        download_seen = True
                        self._downloading()
                        continue
                alive = await client.alive(Priority.ACTION)
            except WattwaechterConnectionError:
                went_away = True
                self._progress(PROGRESS_REBOOTING)
                continue
            except (WattwaechterRetryLaterError, WattwaechterBadResponseError):
                # Up but busy (or confused while it flashes): look again later.
                continue
            last_version = alive.version or last_version
            if alive.version == target:
                self._progress(PROGRESS_BACK)
                self._progress(PROGRESS_VERIFIED)
                return alive.version
            if went_away or download_seen:
                # Back (or done downloading) on another version: it did not take.
                self._progress(PROGRESS_BACK)
                return alive.version
            # Up, no sign of the download yet: count it as downloading.
            self._downloading()
        raise action_error(
            "ota_timeout",
            client.host,
            minutes=f"{OTA_TIMEOUT / 60:.0f}",
            version=last_version or "?",
        )

    async def _async_refresh_all(self, runtime: WattwaechterRuntimeData) -> None:
        """Ask again what the restart may have changed, each once.

        The meter's own poll may have found the device back first and woken
        the others: those are not asked twice.
        """
        runtime.resume_polling()
        for coordinator in (runtime.system, runtime.controls, runtime.meter):
            if coordinator.restarting:
                await coordinator.async_refresh()
        await runtime.ota.async_refresh()

    def _downloading(self) -> None:
        """Creep forward while the download runs."""
        current = self._attr_update_percentage
        step = (
            PROGRESS_DOWNLOADING
            if current is None or current < PROGRESS_DOWNLOADING
            else min(current + PROGRESS_DOWNLOADING_STEP, PROGRESS_DOWNLOADING_MAX)
        )
        self._progress(step)

    def _progress(self, percentage: float) -> None:
        """Report a phase; the percentage never goes down."""
        current = self._attr_update_percentage
        if current is not None and percentage <= current:
            return
        self._attr_update_percentage = percentage
        self.async_write_ha_state()
