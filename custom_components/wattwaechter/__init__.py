"""The WattWächter integration: a local smart-meter reader by SmartCircuits."""

from __future__ import annotations

from datetime import timedelta, tzinfo

from homeassistant.const import CONF_HOST, CONF_TOKEN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType
from homeassistant.helpers.update_coordinator import UpdateFailed
from homeassistant.util import dt as dt_util

from .api.budget import Priority
from .api.client import WattwaechterClient
from .api.errors import WattwaechterInvalidInputError
from .const import (
    CONF_SCAN_INTERVAL,
    CONF_WRITE_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    OTA_INTERVAL,
    SLOW_INTERVAL,
    SYSTEM_INTERVAL,
)
from .coordinator import (
    LedCoordinator,
    MeterCoordinator,
    OtaCoordinator,
    RestartWatcher,
    SettingsCoordinator,
    SystemCoordinator,
    WattwaechterConfigEntry,
    WattwaechterRuntimeData,
    device_id,
    device_model,
)
from .entity import device_info
from .errors import translated
from .importer import HistoryImporter
from .issues import AUTH_DISABLED, WRITE_TOKEN, async_delete_issues, async_set_issue
from .migration import async_migrate_entry as async_migrate_entry
from .reader import HistoryReader
from .services import async_setup_services

PLATFORMS = [
    Platform.BINARY_SENSOR,
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
    """Read the device (who it is, the meter, its features), then add entities."""
    try:
        client = WattwaechterClient(
            entry.data[CONF_HOST],
            async_get_clientsession(hass),
            read_token=entry.data.get(CONF_TOKEN),
            write_token=entry.data.get(CONF_WRITE_TOKEN),
        )
    except WattwaechterInvalidInputError as err:
        # A stored token no device could accept: ask the user for the current one.
        token = err.reason == "token_invalid"
        failure = ConfigEntryAuthFailed if token else ConfigEntryError
        raise translated(failure, err.reason, entry.data[CONF_HOST]) from err
    seconds = entry.options.get(CONF_SCAN_INTERVAL)
    interval = timedelta(seconds=seconds) if seconds else DEFAULT_SCAN_INTERVAL
    meter = MeterCoordinator(hass, entry, client, interval)
    system = SystemCoordinator(hass, entry, client, SYSTEM_INTERVAL)
    settings = SettingsCoordinator(hass, entry, client, SLOW_INTERVAL)
    led = LedCoordinator(hass, entry, client, SLOW_INTERVAL)
    ota = OtaCoordinator(hass, entry, client, OTA_INTERVAL)

    def timezone() -> tzinfo:
        name = settings.data.timezone if settings.data else None
        return (name and dt_util.get_time_zone(name)) or dt_util.get_default_time_zone()

    async def identify() -> bool:
        try:
            await system.async_check(Priority.BACKGROUND)
        except UpdateFailed:
            return False  # another device: the check raised the repair
        return True

    reader = HistoryReader(
        client, lambda: meter.last_update_success and meter.verified, identify
    )
    restart = RestartWatcher(meter)
    runtime = entry.runtime_data = WattwaechterRuntimeData(
        client=client,
        meter=meter,
        system=system,
        settings=settings,
        led=led,
        ota=ota,
        history=HistoryImporter(hass, entry, reader, device_id(entry), timezone),
        restart=restart,
    )
    entry.async_on_unload(client.budget.close)
    await system.async_config_entry_first_refresh()
    meter.verified = True  # the system info just said who answers

    def update_device() -> None:
        dr.async_get(hass).async_get_or_create(
            config_entry_id=entry.entry_id, **device_info(entry)
        )

    update_device()
    await meter.async_config_entry_first_refresh()
    for coordinator in runtime.optional:
        await coordinator.async_refresh()
        if coordinator.supported and not coordinator.last_update_success:
            restart.expect(grace=0)  # ask again as soon as the meter answers
    entry.async_on_unload(meter.async_add_listener(restart.async_on_meter))
    entry.async_on_unload(led.async_add_listener(meter.async_led_updated))
    meter.async_led_updated()
    # The system info polls even without entities of its own (they are
    # disabled by default): it tells who answers and which firmware runs.
    entry.async_on_unload(system.async_add_listener(update_device))

    def auth_issue() -> None:
        # While the device asks for a token its authentication is on, whatever
        # the last settings read (hourly) said.
        asks = meter.refused_token or settings.refused_token
        if settings.data is not None:
            auth_off = settings.data.api_auth_required is False and not asks
            async_set_issue(hass, entry, AUTH_DISABLED, auth_off)

    auth_issue()
    entry.async_on_unload(settings.async_add_listener(auth_issue))
    entry.async_on_unload(meter.async_add_listener(auth_issue))
    entry.async_on_unload(lambda: async_delete_issues(hass, entry))
    if runtime.can_write:
        async_set_issue(hass, entry, WRITE_TOKEN, False)
    model_id = device_model(entry, system.data)[1] or ""
    runtime.history.supported = not model_id.startswith("ww_gw")
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    runtime.history.async_start()
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> bool:
    """Unload the platforms; the coordinators stop with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Drop the entry's write-token issue (HA 2026.11+ does it by itself)."""
    async_set_issue(hass, entry, WRITE_TOKEN, False)
