"""Actions of the integration, registered once in ``async_setup``.

``wattwaechter.rotate_tokens``: give the targeted devices a new API token pair
(see ``security.py``). The entry keeps working without a reload.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import voluptuous as vol

from .const import DOMAIN
from .coordinator import WattwaechterConfigEntry
from .security import async_rotate_tokens

SERVICE_ROTATE_TOKENS = "rotate_tokens"

ROTATE_TOKENS_SCHEMA = vol.Schema(
    {vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string])}
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


def loaded_entry(hass: HomeAssistant, device_id: str) -> WattwaechterConfigEntry:
    """Return the loaded entry of a WattWächter device; ServiceValidationError."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="device_not_found",
            translation_placeholders={"device_id": device_id},
        )
    for entry_id in device.config_entries:
        entry: WattwaechterConfigEntry | None = hass.config_entries.async_get_entry(
            entry_id
        )
        if entry is None or entry.domain != DOMAIN:
            continue
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="device_not_loaded",
                translation_placeholders={"name": entry.title},
            )
        return entry
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="device_not_found",
        translation_placeholders={"device_id": device_id},
    )


async def _async_rotate_tokens(call: ServiceCall) -> None:
    """Rotate the tokens of every targeted device, one after the other."""
    entries = [
        loaded_entry(call.hass, device_id) for device_id in call.data[ATTR_DEVICE_ID]
    ]
    for entry in entries:
        await async_rotate_tokens(call.hass, entry)
