"""Actions of the integration, registered once in ``async_setup``.

``wattwaechter.rotate_tokens``: give the targeted devices a new API token pair
(see ``security.py``). The entry keeps working without a reload.

``wattwaechter.import_history``: import a range of days from a device's memory
into its energy statistics (see ``statistics.py``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .const import DOMAIN, HIGH_RES_DAYS, LOW_RES_DAYS
from .coordinator import WattwaechterConfigEntry
from .security import async_rotate_tokens

SERVICE_ROTATE_TOKENS = "rotate_tokens"

ROTATE_TOKENS_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string])}
)

SERVICE_IMPORT_HISTORY: Final = "import_history"
ATTR_START: Final = "start"
ATTR_END: Final = "end"

IMPORT_HISTORY_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_ROTATE_TOKENS,
        _async_rotate_tokens,
        schema=ROTATE_TOKENS_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_IMPORT_HISTORY,
        _async_import_history,
        schema=IMPORT_HISTORY_SCHEMA,
    )


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return a translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _loaded_entry(hass: HomeAssistant, device_id: str) -> WattwaechterConfigEntry:
    """Return the loaded entry of a WattWächter device."""
    registry = dr.async_get(hass)
    device = registry.async_get(device_id)
    if device is None:
        raise _invalid("unknown_device", device_id=device_id)
    # Looked up through the entries: DeviceEntry.config_entries is deprecated
    # from HA 2026.8 on, and its replacement does not exist before.
    entries = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if any(
            found.id == device_id
            for found in dr.async_entries_for_config_entry(registry, entry.entry_id)
        )
    ]
    if not entries:
        raise _invalid("unknown_device", device_id=device_id)
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            loaded: WattwaechterConfigEntry = entry
            return loaded
    raise _invalid("device_not_loaded", device=device.name_by_user or device.name or "")


async def _async_rotate_tokens(call: ServiceCall) -> None:
    """Rotate the tokens of every targeted device, one after the other."""
    entries = [
        _loaded_entry(call.hass, device_id) for device_id in call.data[ATTR_DEVICE_ID]
    ]
    for entry in entries:
        await async_rotate_tokens(call.hass, entry)


async def _async_import_history(call: ServiceCall) -> None:
    """Import a range of days from the device's history into the statistics."""
    entry = _loaded_entry(call.hass, call.data[ATTR_DEVICE_ID])
    importer = entry.runtime_data.history
    today = importer.today()
    start: date = call.data[ATTR_START]
    end: date = min(call.data.get(ATTR_END, today), today)
    if start > today:
        raise _invalid("start_in_future", start=start.isoformat())
    if start > end:
        raise _invalid(
            "invalid_range",
            start=start.isoformat(),
            end=call.data[ATTR_END].isoformat(),
        )
    age = (today - start).days
    if age >= LOW_RES_DAYS:
        raise _invalid(
            "history_too_old",
            start=start.isoformat(),
            oldest=(today - timedelta(days=LOW_RES_DAYS - 1)).isoformat(),
        )
    if age >= HIGH_RES_DAYS and not importer.daily_history:
        raise _invalid(
            "daily_history_disabled",
            start=start.isoformat(),
            oldest=(today - timedelta(days=HIGH_RES_DAYS - 1)).isoformat(),
        )
    if not importer.supported:
        raise _invalid("history_not_supported", device=entry.title)
    await importer.async_import_days(start, end)
