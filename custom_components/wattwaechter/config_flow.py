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
from homeassistant.helpers import selector
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .api.budget import RequestBudget
from .api.client import WattwaechterClient
from .api.errors import WattwaechterError
from .api.inputs import HostAddress, parse_host
from .const import CONF_FW_VERSION, CONF_WRITE_TOKEN, DOMAIN, MODEL_NAMES, TXT_MODEL_IDS
from .flow_checks import (
    ACTION,
    FormError,
    check_device,
    device_id_from_discovery,
    form_errors,
    typed_token,
)
from .options_flow import WattwaechterOptionsFlow

_LOGGER = logging.getLogger(__name__)

_PASSWORD = selector.TextSelector(
    selector.TextSelectorConfig(type=selector.TextSelectorType.PASSWORD)
)
TOKENS = vol.Schema(
    {vol.Optional(CONF_TOKEN): _PASSWORD, vol.Optional(CONF_WRITE_TOKEN): _PASSWORD}
)
HOST = vol.Schema({vol.Required(CONF_HOST): selector.TextSelector()})


class WattwaechterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a WattWächter by discovery or by host."""

    VERSION = 1
    MINOR_VERSION = 3  # core's scheme: entries load in either integration

    def __init__(self) -> None:
        """Start with nothing known about the device."""
        self._budget = RequestBudget()  # a retry in the flow honours Retry-After
        self._host = ""
        self._device_id = ""
        self._tokens: dict[str, str | None] = {CONF_TOKEN: None, CONF_WRITE_TOKEN: None}
        self._model: str | None = None
        self._firmware: str | None = None
        self._mac = ""
        self._name: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> WattwaechterOptionsFlow:
        """Return the options flow (the base class provides the entry)."""
        return WattwaechterOptionsFlow()

    def _client(
        self, host: str, token: str | None, write_token: str | None = None
    ) -> WattwaechterClient:
        return WattwaechterClient(
            host,
            async_get_clientsession(self.hass),
            read_token=token,
            write_token=write_token,
            budget=self._budget,
        )

    async def _async_check(
        self,
        user_input: Mapping[str, Any],
        stored: Mapping[str, Any],
        *,
        required: bool = False,
    ) -> dict[str, str]:
        """Ask the device with what was typed; return the form's errors.

        An empty token field keeps the stored token; the READ token reads, or
        the WRITE token when it is the only one.
        """
        with form_errors() as errors:
            if CONF_HOST in user_input:
                self._host = parse_host(user_input[CONF_HOST]).authority
            new_write = typed_token(user_input, CONF_WRITE_TOKEN)
            token = typed_token(user_input, CONF_TOKEN) or stored.get(CONF_TOKEN)
            write_token = new_write or stored.get(CONF_WRITE_TOKEN)
            if required and token is None and write_token is None:
                raise FormError("token_required")
            info, settings = await check_device(
                self._client(self._host, token or write_token, new_write),
                self._device_id,
                write_check=new_write is not None,
            )
            self._tokens = {CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token}
            # A discovered ID and MAC stay; otherwise what the device tells wins.
            self._name = settings.device_name if settings else None
            self._device_id = self._device_id or str(info.esp_id)
            self._mac = self._mac or info.mac_address or ""
            self._firmware = info.firmware or self._firmware
            self._model = info.model_id or self._model or "ww_plus"
        return errors

    async def _async_reaches(self, host: str, token: str | None) -> bool:
        # Only a name is asked: the device announcing another IP address left it.
        try:
            client = self._client(host, token)
            if client.address.is_ip:
                return False
            info = await client.system_info(ACTION)
        except WattwaechterError:
            return False
        return info.is_device(self._device_id)

    def _title(self) -> str:
        return self._name or f"WattWächter {self._device_id[-4:]}"

    def _create_entry(self) -> ConfigFlowResult:
        # Core's data keys plus the write token.
        return self.async_create_entry(
            title=self._title(),
            data={
                CONF_HOST: self._host,
                **self._tokens,
                CONF_DEVICE_ID: self._device_id,
                CONF_MODEL: self._model,
                CONF_FW_VERSION: self._firmware,
                CONF_MAC: self._mac,
            },
        )

    async def _async_known(self) -> ConfigFlowResult | None:
        """Abort for a device set up already, after telling it what changed.

        A host name that still reaches the device stays when the device
        announces its IP; nothing reloads while the device is reached as before.
        """
        entry = await self.async_set_unique_id(self._device_id, raise_on_progress=False)
        if entry is None or (
            entry.source == SOURCE_IGNORE and self.source == SOURCE_USER
        ):
            return None  # HA replaces an ignored entry with the new one
        if entry.source == SOURCE_IGNORE:
            return self.async_abort(reason="already_configured")
        old = str(entry.data[CONF_HOST])
        updates = {CONF_HOST: self._host} | {k: v for k, v in self._tokens.items() if v}
        changes = {k: v for k, v in updates.items() if v != entry.data.get(k)}
        token = entry.data.get(CONF_TOKEN) or entry.data.get(CONF_WRITE_TOKEN)
        reached = set(changes) == {CONF_HOST} and await self._async_reaches(old, token)
        if not changes or (reached and self.source != SOURCE_USER):
            return self.async_abort(reason="already_configured")
        _LOGGER.info("%s: updated by %s (%s)", entry.title, self.source, list(changes))
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, **changes}
        )
        if not reached:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        name = {"name": entry.title}
        if CONF_HOST not in changes:
            return self.async_abort(
                reason="already_configured_tokens", description_placeholders=name
            )
        return self.async_abort(
            reason="already_configured_updated",
            description_placeholders={**name, "old": old, "new": self._host},
        )

    async def _async_discovered(self, host: str, device_id: str) -> ConfigFlowResult:
        self._host, self._device_id = host, device_id
        if not device_id:
            return self.async_abort(reason="no_device_id")
        if known := await self._async_known():
            return known
        await self.async_set_unique_id(device_id)
        errors = await self._async_check({}, {})
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
        properties = discovery_info.properties
        model = properties.get("model")
        self._model = TXT_MODEL_IDS.get(model, model) if model else None
        self._firmware = properties.get("ver")
        self._mac = properties.get("mac", "")
        port = None if discovery_info.port in (None, 80) else discovery_info.port
        device_id = device_id_from_discovery(
            properties, discovery_info.hostname, discovery_info.name
        )
        return await self._async_discovered(
            HostAddress(str(discovery_info.ip_address), port).authority, device_id
        )

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
            errors = await self._async_check(user_input, {})
            if errors.get("base") == "invalid_auth":
                return await self.async_step_auth()
            if not errors:
                return await self._async_known() or self._create_entry()
        return self._form("user", HOST, errors, user_input)

    async def async_step_auth(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tokens of a device with authentication on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_check(user_input, {}, required=True)
            if not errors:
                return await self._async_known() or self._create_entry()
        return self._form("auth", TOKENS, errors)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start after the device refused the token; it may need none now."""
        entry = self._get_reauth_entry()
        self._host, self._device_id = str(entry.data[CONF_HOST]), entry.unique_id or ""
        if await self._async_check({}, {}):
            return await self.async_step_reauth_confirm()
        return await self.async_step_reauth_no_token()

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
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = self._get_reauth_entry()
            errors = await self._async_check(user_input, entry.data, required=True)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates=self._tokens
                )
        return self._form("reauth_confirm", TOKENS, errors)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the host or the tokens; an empty token field keeps the stored one."""
        entry = self._get_reconfigure_entry()
        self._device_id = entry.unique_id or ""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_check(user_input, entry.data)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_HOST: self._host, **self._tokens}
                )
        suggested = {CONF_HOST: (user_input or entry.data)[CONF_HOST]}
        return self._form("reconfigure", HOST.extend(TOKENS.schema), errors, suggested)

    def _form(
        self,
        step_id: str,
        schema: vol.Schema,
        errors: dict[str, str],
        suggested: Mapping[str, Any] | None = None,
    ) -> ConfigFlowResult:
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            description_placeholders={"host": self._host},
            errors=errors,
        )
