"""Base entity: device, unique ID, availability, and how actions report errors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any, Concatenate

from homeassistant.const import CONF_HOST, CONF_MAC
from homeassistant.core import callback
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api.errors import WattwaechterError, WattwaechterForbiddenError
from .const import CONF_FW_VERSION, DOMAIN, MANUFACTURER
from .coordinator import (
    WattwaechterConfigEntry,
    WattwaechterCoordinator,
    device_id,
    device_model,
)
from .errors import action_error
from .issues import WRITE_TOKEN, async_set_issue


def firmware(entry: WattwaechterConfigEntry) -> str | None:
    """Return the firmware the device runs, as last reported."""
    system = entry.runtime_data.system.data
    return (system.firmware if system else None) or entry.data.get(CONF_FW_VERSION)


def device_info(entry: WattwaechterConfigEntry) -> DeviceInfo:
    """Describe the device from the entry and the latest system info."""
    system = entry.runtime_data.system.data
    model, model_id = device_model(entry, system)
    mac = (system.mac_address if system else None) or entry.data.get(CONF_MAC)
    return DeviceInfo(
        identifiers={(DOMAIN, device_id(entry))},
        connections={(CONNECTION_NETWORK_MAC, mac)} if mac else set(),
        manufacturer=MANUFACTURER,
        model=model,
        model_id=model_id,
        sw_version=firmware(entry),
        configuration_url=f"http://{entry.data[CONF_HOST]}",
    )


class WattwaechterEntity[CoordinatorT: WattwaechterCoordinator[Any]](
    CoordinatorEntity[CoordinatorT]
):
    """An entity of one device; unavailable whenever the device does not answer."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: CoordinatorT, description: EntityDescription | None = None
    ) -> None:
        """Set the unique ID ``<device_id>_<key>`` (description or translation key)."""
        super().__init__(coordinator)
        if description is not None:
            self.entity_description = description
        key = description.key if description else self._attr_translation_key
        entry = coordinator.config_entry
        self._attr_unique_id = f"{device_id(entry)}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, device_id(entry))})
        self._meter = entry.runtime_data.meter
        self._device_up = self._meter.last_update_success

    async def async_added_to_hass(self) -> None:
        """Follow the meter too: it tells whether the device answers."""
        await super().async_added_to_hass()
        if self.coordinator is not self._meter:
            self.async_on_remove(self._meter.async_add_listener(self._async_up_down))

    @callback
    def _async_up_down(self) -> None:
        if self._device_up != (up := self._meter.last_update_success):
            self._device_up = up
            self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """Return False while the device (or this entity's data) is away."""
        return super().available and self._meter.last_update_success


def action[EntityT: WattwaechterEntity[Any], **P](
    func: Callable[Concatenate[EntityT, P], Coroutine[Any, Any, Any]],
) -> Callable[Concatenate[EntityT, P], Coroutine[Any, Any, None]]:
    """Turn client errors of an action into translated HomeAssistantErrors.

    A 403 means only the read token is stored: a repair leads to Reconfigure.
    The state is written again after a failure, showing the device's own.
    """

    @wraps(func)
    async def handler(self: EntityT, /, *args: P.args, **kwargs: P.kwargs) -> None:
        entry = self.coordinator.config_entry
        try:
            await func(self, *args, **kwargs)
        except WattwaechterError as err:
            forbidden = isinstance(err, WattwaechterForbiddenError)
            async_set_issue(self.hass, entry, WRITE_TOKEN, forbidden)
            self.async_write_ha_state()
            raise action_error(err, entry.runtime_data.client.host) from err
        async_set_issue(self.hass, entry, WRITE_TOKEN, False)

    return handler
