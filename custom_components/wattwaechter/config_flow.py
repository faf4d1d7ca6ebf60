"""Config flow: discovery (mDNS, DHCP), host, tokens, reauth and reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_USER,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_HOST,
    CONF_MAC,
    CONF_MODEL,
    CONF_TOKEN,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .api.inputs import HostAddress
from .const import (
    CONF_FW_VERSION,
    CONF_WRITE_TOKEN,
    DOMAIN,
    MODEL_NAMES,
    TXT_MODEL_IDS,
)
from .flow_checks import (
    DeviceChecks,
    Found,
    device_id_from_discovery,
    form_errors,
    host_of,
)
from .options_flow import WattwaechterOptionsFlow

_LOGGER = logging.getLogger(__name__)

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
TOKENS = vol.Schema(
    {vol.Optional(CONF_TOKEN): _PASSWORD, vol.Optional(CONF_WRITE_TOKEN): _PASSWORD}
)
HOST = vol.Schema({vol.Required(CONF_HOST): TextSelector()})


class WattwaechterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a WattWächter by discovery or by host."""

    VERSION = 1
    MINOR_VERSION = 3  # core's scheme: entries load in either integration

    def __init__(self) -> None:
        """Start with nothing known about the device."""
        self._checks: DeviceChecks | None = None
        self._host = ""
        self._device_id = ""
        self._model: str | None = None
        self._firmware: str | None = None
        self._mac = ""
        self._name: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> WattwaechterOptionsFlow:
        """Return the options flow (the base class provides the entry)."""
        return WattwaechterOptionsFlow()

    @property
    def _device(self) -> DeviceChecks:
        if self._checks is None:
            self._checks = DeviceChecks(self.hass)
        return self._checks

    def _remember(self, found: Found) -> None:
        """Keep what the device told; a discovered ID stays (it matched)."""
        info = found.info
        self._name = found.name
        self._device_id = self._device_id or str(info.esp_id)
        self._mac = self._mac or info.mac_address or ""
        self._firmware = info.firmware or self._firmware
        self._model = info.model_id or self._model or "ww_plus"

    def _title(self) -> str:
        return self._name or f"WattWächter {self._device_id[-4:]}"

    def _create_entry(
        self, token: str | None = None, write_token: str | None = None
    ) -> ConfigFlowResult:
        """Create the entry with core's data keys plus the write token."""
        return self.async_create_entry(
            title=self._title(),
            data={
                CONF_HOST: self._host,
                CONF_TOKEN: token,
                CONF_WRITE_TOKEN: write_token,
                CONF_DEVICE_ID: self._device_id,
                CONF_MODEL: self._model,
                CONF_FW_VERSION: self._firmware,
                CONF_MAC: self._mac,
            },
        )

    async def _async_known(self, **updates: str | None) -> ConfigFlowResult | None:
        """Abort for a device set up already, after telling it what changed.

        A host name that still reaches the device stays when the device
        announces its IP; nothing reloads while the device is reached as before.
        """
        await self.async_set_unique_id(self._device_id, raise_on_progress=False)
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, self._device_id
        )
        if entry is None or (
            entry.source == SOURCE_IGNORE and self.source == SOURCE_USER
        ):
            return None  # HA replaces an ignored entry with the new one
        if entry.source == SOURCE_IGNORE:
            return self.async_abort(reason="already_configured")
        old = str(entry.data[CONF_HOST])
        changes = {k: v for k, v in updates.items() if v != entry.data.get(k)}
        token = entry.data.get(CONF_TOKEN) or entry.data.get(CONF_WRITE_TOKEN)
        reached = set(changes) == {CONF_HOST} and await self._device.reaches(
            old, token, self._device_id
        )
        if not changes or (reached and self.source != SOURCE_USER):
            return self.async_abort(reason="already_configured")
        _LOGGER.info("%s: updated by %s (%s)", entry.title, self.source, list(changes))
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, **changes}
        )
        if not reached:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        if CONF_HOST not in changes:
            return self.async_abort(
                reason="already_configured_tokens",
                description_placeholders={"name": entry.title},
            )
        return self.async_abort(
            reason="already_configured_updated",
            description_placeholders={
                "name": entry.title,
                "old": old,
                "new": str(changes[CONF_HOST]),
            },
        )

    async def _async_discovered(self, host: str, device_id: str) -> ConfigFlowResult:
        """Handle a device announced at ``host``."""
        self._host, self._device_id = host, device_id
        if not device_id:
            return self.async_abort(reason="no_device_id")
        if known := await self._async_known(host=host):
            return known
        await self.async_set_unique_id(device_id)

        async def check() -> None:
            self._remember(await self._device.probe(host, None, device_id))

        errors = await form_errors(check())
        self.context["title_placeholders"] = {"name": self._title()}
        if errors.get("base") == "invalid_auth":
            return await self.async_step_auth()
        if errors:
            unknown = errors.get("base") == "unknown"
            return self.async_abort(reason="unknown" if unknown else "cannot_connect")
        return await self.async_step_discovery_confirm()

    async def async_step_zeroconf(
        self, discovery_info: ZeroconfServiceInfo
    ) -> ConfigFlowResult:
        """Handle a device found on ``_wattwaechter._tcp`` or ``_http._tcp``."""
        port = discovery_info.port
        properties = discovery_info.properties
        model = properties.get("model")
        self._model = TXT_MODEL_IDS.get(model, model) if model else None
        self._firmware = properties.get("ver")
        self._mac = properties.get("mac", "")
        host = HostAddress(
            str(discovery_info.ip_address), None if port in (None, 80) else port
        ).authority
        device_id = device_id_from_discovery(
            properties, discovery_info.hostname, discovery_info.name
        )
        return await self._async_discovered(host, device_id)

    async def async_step_dhcp(
        self, discovery_info: DhcpServiceInfo
    ) -> ConfigFlowResult:
        """Follow a device that got a new address, or offer one found by name."""
        device_id = discovery_info.macaddress.replace(":", "").upper()
        return await self._async_discovered(discovery_info.ip, device_id)

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user to add the discovered device (also during onboarding)."""
        if user_input is not None:
            return self._create_entry()
        return self.async_show_form(
            step_id="discovery_confirm",
            description_placeholders={
                "name": self._title(),
                "model": MODEL_NAMES.get(self._model or "", "WattWächter"),
                "firmware": self._firmware or "?",
                "host": self._host,
            },
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the host and check that a WattWächter answers there."""
        errors: dict[str, str] = {}
        if user_input is not None:

            async def check() -> None:
                self._host = host_of(user_input[CONF_HOST])
                self._remember(await self._device.probe(self._host, None))

            errors = await form_errors(check())
            if errors.get("base") == "invalid_auth":
                return await self.async_step_auth()
            if not errors:
                return await self._async_known(host=self._host) or self._create_entry()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(HOST, user_input),
            errors=errors,
        )

    async def async_step_auth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tokens of a device with authentication on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            tokens: dict[str, str | None] = {}

            async def check() -> None:
                found, typed = await self._device.check_tokens(
                    self._host, user_input, {}, self._device_id or None
                )
                self._remember(found)
                tokens.update(typed)

            if not (errors := await form_errors(check())):
                # An empty field keeps the token a known device has stored.
                typed = {key: value for key, value in tokens.items() if value}
                known = await self._async_known(host=self._host, **typed)
                return known or self._create_entry(**tokens)
        return self.async_show_form(
            step_id="auth",
            data_schema=TOKENS,
            description_placeholders={"host": self._host},
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start after the device refused the token; it may need none now."""
        entry = self._get_reauth_entry()
        self._host = str(entry.data[CONF_HOST])
        if not await form_errors(self._device.probe(self._host, None, entry.unique_id)):
            return await self.async_step_reauth_no_token()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_no_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm that the device, which answers without a token now, needs none."""
        if user_input is not None:
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(),
                data_updates={CONF_TOKEN: None, CONF_WRITE_TOKEN: None},
            )
        return self.async_show_form(
            step_id="reauth_no_token", description_placeholders={"host": self._host}
        )

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new tokens; an empty field keeps the stored one."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            tokens: dict[str, str | None] = {}

            async def check() -> None:
                _, checked = await self._device.check_tokens(
                    self._host, user_input, entry.data, entry.unique_id
                )
                tokens.update(checked)

            if not (errors := await form_errors(check())):
                return self.async_update_reload_and_abort(entry, data_updates=tokens)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=TOKENS,
            description_placeholders={"host": self._host},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the host or the tokens; an empty token field keeps the stored one."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            tokens: dict[str, str | None] = {}

            async def check() -> None:
                self._host = host_of(user_input[CONF_HOST])
                _, checked = await self._device.check_tokens(
                    self._host, user_input, entry.data, entry.unique_id, required=False
                )
                tokens.update(checked)

            if not (errors := await form_errors(check())):
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_HOST: self._host, **tokens}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                HOST.extend(TOKENS.schema),
                {CONF_HOST: (user_input or entry.data)[CONF_HOST]},
            ),
            errors=errors,
        )
