"""Coordinators: the meter (fast, one request per update) and system info (slow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    MeterReading,
    SystemInfo,
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterClient,
    WattwaechterError,
    WattwaechterNoDataError,
    WattwaechterRetryLaterError,
)
from .const import DOMAIN, SYSTEM_INTERVAL

_LOGGER = logging.getLogger(__name__)


@dataclass
class WattwaechterRuntimeData:
    """What a loaded entry keeps: the client and its coordinators."""

    client: WattwaechterClient
    meter: MeterCoordinator
    system: SystemCoordinator


type WattwaechterConfigEntry = ConfigEntry[WattwaechterRuntimeData]


def update_failed(err: WattwaechterError, host: str) -> UpdateFailed:
    """Translate a client error into the coordinator's UpdateFailed."""
    if isinstance(err, WattwaechterRetryLaterError):
        key = "device_busy"
    elif isinstance(err, WattwaechterNoDataError):
        key = "no_meter_data"
    elif isinstance(err, WattwaechterBadResponseError):
        key = "bad_response"
    else:
        key = "cannot_connect"
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"host": host, "error": str(err)},
    )


class MeterCoordinator(DataUpdateCoordinator[MeterReading]):
    """Polls ``/history/latest``: every OBIS register in one request."""

    config_entry: WattwaechterConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
        update_interval: timedelta,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} meter {client.host}",
            update_interval=update_interval,
        )
        self.client = client

    async def _async_update_data(self) -> MeterReading:
        """Fetch the latest reading."""
        try:
            return await self.client.latest()
        except WattwaechterAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"host": self.client.host},
            ) from err
        except WattwaechterNoDataError as err:
            # Right after a (re)boot the device has no reading yet. At the very
            # first update an empty reading lets setup finish; the registers'
            # sensors are added as soon as they appear.
            if self.data is None or not self.data.values:
                return MeterReading(timestamp=None, values={})
            raise update_failed(err, self.client.host) from err
        except WattwaechterError as err:
            raise update_failed(err, self.client.host) from err


class SystemCoordinator(DataUpdateCoordinator[SystemInfo]):
    """Polls ``/system/info`` every few minutes for the diagnostic sensors."""

    config_entry: WattwaechterConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: WattwaechterConfigEntry,
        client: WattwaechterClient,
    ) -> None:
        """Set up the coordinator for one device."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} system {client.host}",
            update_interval=SYSTEM_INTERVAL,
        )
        self.client = client

    async def _async_update_data(self) -> SystemInfo:
        """Fetch the system info."""
        try:
            return await self.client.system_info()
        except WattwaechterAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_auth",
                translation_placeholders={"host": self.client.host},
            ) from err
        except WattwaechterError as err:
            raise update_failed(err, self.client.host) from err
