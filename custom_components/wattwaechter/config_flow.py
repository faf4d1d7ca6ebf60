"""Config flow: discovery (mDNS, DHCP), host, tokens, reauth, reconfigure, options."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
import logging
import re
from typing import Any

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    CONF_DEVICE_ID,
    CONF_HOST,
    CONF_MAC,
    CONF_MODEL,
    CONF_TOKEN,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import AbortFlow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.dhcp import DhcpServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .api.budget import Priority
from .api.client import WattwaechterClient
from .api.errors import WattwaechterError, WattwaechterForbiddenError
from .api.inputs import HostAddress, clean_token, parse_host
from .api.models import SystemInfo
from .const import (
    CONF_DAILY_HISTORY,
    CONF_FW_VERSION,
    CONF_SCAN_INTERVAL,
    CONF_WRITE_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    MODEL_NAMES,
    TXT_MODEL_IDS,
)
from .errors import error_key

_LOGGER = logging.getLogger(__name__)

_ID_IN_NAME = re.compile(r"(?:wattwaechter|wwp|wwgw)-([0-9a-f]{12})\b", re.IGNORECASE)
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
TOKENS = vol.Schema(
    {vol.Optional(CONF_TOKEN): _PASSWORD, vol.Optional(CONF_WRITE_TOKEN): _PASSWORD}
)
ACTION = Priority.ACTION


class FormError(Exception):
    """A check failed; ``key`` is the form error of ``field``."""

    def __init__(self, key: str, field: str = "base") -> None:
        """Keep the error key and its field."""
        super().__init__(key)
        self.key, self.field = key, field


def device_id_from_discovery(properties: Mapping[str, Any], *names: str | None) -> str:
    """Return the bare-MAC device ID, as core forms it (TXT id, TXT mac, name)."""
    if device_id := str(properties.get("id", "")).rpartition("-")[2]:
        return device_id
    if device_id := str(properties.get("mac", "")).replace(":", "").upper():
        return device_id
    for text in names:
        if match := _ID_IN_NAME.search(text or ""):
            return match.group(1).upper()
    return ""


def _token(user_input: Mapping[str, Any], key: str) -> str | None:
    try:
        return clean_token(str(user_input.get(key) or ""))
    except WattwaechterError as err:
        raise FormError("token_invalid", key) from err


class WattwaechterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a WattWächter by discovery or by host."""

    VERSION = 1
    MINOR_VERSION = 3  # core's scheme: entries load in either integration

    def __init__(self) -> None:
        """Start with nothing known about the device."""
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

    async def _errors(self, check: Awaitable[Any]) -> dict[str, str]:
        """Run a check; return its form errors (an unexpected one is logged)."""
        try:
            await check
        except FormError as err:
            return {err.field: err.key}
        except WattwaechterError as err:
            key = error_key(err)
            return {CONF_HOST if key.startswith("host_") else "base": key}
        except AbortFlow:
            raise
        except Exception:
            _LOGGER.exception("Unexpected error while checking the WattWächter")
            return {"base": "unknown"}
        return {}

    def _client(
        self, host: str, token: str | None = None, **kwargs: Any
    ) -> WattwaechterClient:
        return WattwaechterClient(
            host, async_get_clientsession(self.hass), read_token=token, **kwargs
        )

    async def _probe(self, host: str, token: str | None = None) -> SystemInfo:
        """Read the device's system info and name; remember what it tells."""
        client = self._client(host, token)
        self._host = client.host
        info = await client.system_info(ACTION)
        if not info.esp_id:
            raise FormError("bad_response")
        try:
            self._name = (await client.settings(ACTION)).device_name
        except WattwaechterError:
            self._name = None
        self._device_id = self._device_id or info.esp_id
        self._mac = self._mac or info.mac_address or ""
        self._firmware = info.firmware or self._firmware
        self._model = info.model_id or self._model or "ww_plus"
        return info

    async def _probe_tokens(
        self, token: str | None, write_token: str | None
    ) -> SystemInfo:
        """Read with the READ token (or the WRITE one alone), then check WRITE.

        The WRITE token is checked with a change that changes nothing: the LED
        setting (or the name) the device already has; 403 means read-only.
        """
        if token is None and write_token is None:
            raise FormError("token_required")
        info = await self._probe(self._host, token or write_token)
        if write_token is None:
            return info
        client = self._client(self._host, write_token=write_token)
        settings = await client.settings(ACTION)
        unchanged = (
            {"ledEnable": settings.led_enable}
            if settings.led_enable is not None
            else {"device_name": settings.device_name}
        )
        try:
            await client.update_settings(unchanged, ACTION)
        except WattwaechterForbiddenError as err:
            raise FormError("write_token_read_only", CONF_WRITE_TOKEN) from err
        except WattwaechterError as err:
            if error_key(err) == "invalid_auth":
                raise FormError("invalid_write_token", CONF_WRITE_TOKEN) from err
            raise
        return info

    async def _reaches(self, entry: ConfigEntry, host: str) -> bool:
        """Return True when the entry's device still answers at ``host`` (a name)."""
        if parse_host(host).is_ip:
            return False
        client = self._client(host, entry.data.get(CONF_TOKEN))
        try:
            info = await client.system_info(ACTION)
        except WattwaechterError:
            return False
        return info.is_device(str(entry.unique_id))

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

        A host the user typed stays while it reaches the device, so a new
        announcement of the device's IP does not replace it; nothing reloads
        when the device is reached as before.
        """
        await self.async_set_unique_id(self._device_id, raise_on_progress=False)
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, self._device_id
        )
        if entry is None:
            return None
        old = str(entry.data[CONF_HOST])
        host = updates.get(CONF_HOST, old)
        changes = {k: v for k, v in updates.items() if v != entry.data.get(k)}
        if not changes or (
            set(changes) == {CONF_HOST}
            and self.source != SOURCE_USER
            and await self._reaches(entry, old)
        ):
            return self.async_abort(reason="already_configured")
        _LOGGER.info("%s: connecting at %s (was %s)", entry.title, host, old)
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, **changes}
        )
        if set(changes) != {CONF_HOST} or not await self._reaches(entry, old):
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(
            reason="already_configured_updated",
            description_placeholders={
                "name": entry.title,
                "old": old,
                "new": str(host),
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
        errors = await self._errors(self._probe(host))
        self.context["title_placeholders"] = {"name": self._title()}
        if errors.get("base") == "invalid_auth":
            return await self.async_step_auth()
        if errors:
            return self.async_abort(reason="cannot_connect")
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
            errors = await self._errors(self._probe(user_input[CONF_HOST]))
            if errors.get("base") == "invalid_auth":
                return await self.async_step_auth()
            if not errors:
                return await self._async_known(host=self._host) or self._create_entry()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_HOST): TextSelector()}), user_input
            ),
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
                tokens[CONF_TOKEN] = _token(user_input, CONF_TOKEN)
                tokens[CONF_WRITE_TOKEN] = _token(user_input, CONF_WRITE_TOKEN)
                await self._probe_tokens(tokens[CONF_TOKEN], tokens[CONF_WRITE_TOKEN])

            if not (errors := await self._errors(check())):
                return await self._async_known(
                    host=self._host, **tokens
                ) or self._create_entry(tokens[CONF_TOKEN], tokens[CONF_WRITE_TOKEN])
        return self.async_show_form(
            step_id="auth",
            data_schema=TOKENS,
            description_placeholders={"host": self._host},
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start reauthentication after the device refused the token (401)."""
        self._host = str(entry_data[CONF_HOST])
        if not await self._errors(self._probe(self._host)):
            return await self.async_step_reauth_no_token()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_no_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm that the device, which answers without a token now, needs none."""
        entry = self._get_reauth_entry()
        if self._device_id and self._device_id != entry.unique_id:
            return self.async_abort(reason="wrong_device")
        if user_input is not None:
            return self.async_update_reload_and_abort(
                entry, data_updates={CONF_TOKEN: None, CONF_WRITE_TOKEN: None}
            )
        return self.async_show_form(
            step_id="reauth_no_token", description_placeholders={"host": self._host}
        )

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new tokens; an empty field keeps the stored one."""
        entry = self._get_reauth_entry()
        self._host = str(entry.data[CONF_HOST])
        errors: dict[str, str] = {}
        if user_input is not None:
            tokens: dict[str, str | None] = {}

            async def check() -> None:
                token = _token(user_input, CONF_TOKEN) or entry.data.get(CONF_TOKEN)
                write_token = _token(user_input, CONF_WRITE_TOKEN) or entry.data.get(
                    CONF_WRITE_TOKEN
                )
                info = await self._probe_tokens(token, write_token)
                if not info.is_device(str(entry.unique_id)):
                    raise AbortFlow("wrong_device")
                tokens.update({CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token})

            if not (errors := await self._errors(check())):
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
                new_write = _token(user_input, CONF_WRITE_TOKEN)
                token = _token(user_input, CONF_TOKEN) or entry.data.get(CONF_TOKEN)
                write_token = new_write or entry.data.get(CONF_WRITE_TOKEN)
                info = await self._probe(user_input[CONF_HOST], token or write_token)
                if not info.is_device(str(entry.unique_id)):
                    raise AbortFlow("wrong_device")
                if new_write is not None:
                    await self._probe_tokens(token, new_write)
                tokens.update({CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token})

            if not (errors := await self._errors(check())):
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_HOST: self._host, **tokens}
                )
        schema = vol.Schema({vol.Required(CONF_HOST): TextSelector()}).extend(
            TOKENS.schema
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_HOST: (user_input or entry.data)[CONF_HOST]}
            ),
            errors=errors,
        )


class WattwaechterOptionsFlow(OptionsFlow):
    """How often the meter is read, and how far back history is imported."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the meter interval and the opt-in to daily values."""
        entry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            seconds = int(user_input[CONF_SCAN_INTERVAL])
            if MIN_SCAN_INTERVAL <= seconds <= MAX_SCAN_INTERVAL:
                # Applied here, not by an update listener: HA 2026.6+ warns when
                # an entry with listeners is reloaded by reauth or reconfigure.
                if entry.state is ConfigEntryState.LOADED:
                    entry.runtime_data.meter.async_set_interval(seconds)
                return self.async_create_entry(data={**entry.options, **user_input})
            errors[CONF_SCAN_INTERVAL] = "interval_out_of_range"
        current = {
            CONF_SCAN_INTERVAL: int(DEFAULT_SCAN_INTERVAL.total_seconds()),
            CONF_DAILY_HISTORY: False,
            **entry.options,
            **(user_input or {}),
        }
        schema = vol.Schema(
            {
                vol.Required(CONF_SCAN_INTERVAL): NumberSelector(
                    NumberSelectorConfig(
                        step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX
                    )
                ),
                vol.Optional(CONF_DAILY_HISTORY): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, current),
            description_placeholders={
                "min": str(MIN_SCAN_INTERVAL),
                "max": str(MAX_SCAN_INTERVAL),
            },
            errors=errors,
        )
