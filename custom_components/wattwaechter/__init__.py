"""The WattWächter integration: a local smart-meter reader by SmartCircuits."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.const import CONF_HOST, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import (
    CAUSE_SETUP,
    WattwaechterClient,
    WattwaechterInvalidHostError,
    WattwaechterInvalidTokenError,
    request_cause,
)
from .budgets import async_get_budgets
from .const import CONF_SCAN_INTERVAL, CONF_WRITE_TOKEN, DEFAULT_SCAN_INTERVAL, DOMAIN
from .coordinator import (
    ControlsCoordinator,
    MeterCoordinator,
    OtaCoordinator,
    SystemCoordinator,
    WattwaechterConfigEntry,
    WattwaechterRuntimeData,
)
from .issues import (
    async_delete_device_issues,
    async_delete_write_token_issue,
    async_update_auth_issue,
)
from .migration import async_migrate_entry
from .services import async_setup_services
from .statistics import HistoryImporter

__all__ = [
    "async_migrate_entry",
    "async_setup",
    "async_setup_entry",
    "async_unload_entry",
]

PLATFORMS: list[Platform] = [
    Platform.BUTTON,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.UPDATE,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, also while no entry is loaded."""
    async_setup_services(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> bool:
    """Connect to the device, fetch the first data and set up the platforms."""
    try:
        client = WattwaechterClient(
            entry.data[CONF_HOST],
            async_get_clientsession(hass),
            read_token=entry.data.get(CONF_TOKEN),
            write_token=entry.data.get(CONF_WRITE_TOKEN),
            gate=async_get_budgets(hass).async_acquire(entry),
        )
    except WattwaechterInvalidHostError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="invalid_host",
            translation_placeholders={"host": entry.data[CONF_HOST]},
        ) from err
    except WattwaechterInvalidTokenError as err:
        # A stored token no device would accept: ask for the current one.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"host": entry.data[CONF_HOST]},
        ) from err

    interval = entry.options.get(CONF_SCAN_INTERVAL)
    meter = MeterCoordinator(
        hass,
        entry,
        client,
        DEFAULT_SCAN_INTERVAL if interval is None else timedelta(seconds=interval),
    )
    system = SystemCoordinator(hass, entry, client)
    controls = ControlsCoordinator(hass, entry, client)
    ota = OtaCoordinator(hass, entry, client)
    meter.followers = (system, controls)
    system.followers = (controls,)
    history = HistoryImporter(hass, entry, client)
    entry.runtime_data = WattwaechterRuntimeData(
        client=client,
        meter=meter,
        system=system,
        controls=controls,
        ota=ota,
        history=history,
    )

    # The user waits for these (see CAUSE_SETUP). System info first: it names
    # the device (model, firmware, MAC) before the entities register it. Its
    # failure is fatal only here, at setup.
    with request_cause(CAUSE_SETUP):
        await system.async_config_entry_first_refresh()
        await meter.async_config_entry_first_refresh()
        # The settings tell whether auth is on, so which entities can act.
        await controls.async_config_entry_first_refresh()
        # The update server may be unreachable; the update entity then shows
        # no latest version until the next check.
        await ota.async_refresh()

    if entry.runtime_data.can_write:
        async_delete_write_token_issue(hass, entry)

    @callback
    def update_auth_issue() -> None:
        """Warn while the device lets anyone on the network act on it."""
        if controls.data is not None:
            async_update_auth_issue(
                hass, entry, controls.data.settings.api_auth_required
            )

    update_auth_issue()
    entry.async_on_unload(controls.async_add_listener(update_auth_issue))
    entry.async_on_unload(lambda: async_delete_device_issues(hass, entry))

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # The device's history fills the statistics in the background: the gap
    # since the last imported hour (30 days at first setup), then hourly.
    history.async_start()
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> bool:
    """Unload the platforms; the coordinators stop with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Drop the entry's repair issue with the entry."""
    async_delete_write_token_issue(hass, entry)
