"""Config flow: zeroconf discovery, manual host, token, reauth and reconfigure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import logging
import re
from typing import Any

from homeassistant.config_entries import (
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
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
import voluptuous as vol

from .api import (
    HostAddress,
    Priority,
    RequestBudget,
    Settings,
    SystemInfo,
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterClient,
    WattwaechterConnectionError,
    WattwaechterError,
    WattwaechterForbiddenError,
    WattwaechterInvalidHostError,
    WattwaechterInvalidTokenError,
    WattwaechterNoDataError,
    WattwaechterRetryLaterError,
    clean_token,
)
from .budgets import BudgetRegistry, async_get_budgets
from .const import (
    CONF_DAILY_HISTORY,
    CONF_FW_VERSION,
    CONF_SCAN_INTERVAL,
    CONF_WRITE_TOKEN,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    MAX_SCAN_INTERVAL,
    MIN_SCAN_INTERVAL,
    MODEL_ID_PLUS,
    MODEL_NAMES,
    TXT_MODEL_IDS,
)

_LOGGER = logging.getLogger(__name__)

# wattwaechter-aabbccddeeff(.local.) or an instance name like WWP-AABBCCDDEEFF.
_ID_IN_NAME = re.compile(r"(?:wattwaechter|wwp|wwgw)-([0-9a-f]{12})\b", re.IGNORECASE)

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _field(user_input: Mapping[str, Any], key: str) -> str | None:
    """Return a trimmed token field, None when left empty; CannotProbe if invalid."""
    try:
        return clean_token(str(user_input.get(key) or ""))
    except WattwaechterInvalidTokenError as err:
        raise CannotProbe(err.reason, key) from err


def device_id_from_discovery(discovery_info: ZeroconfServiceInfo) -> str:
    """Return the bare-MAC device ID the way HA core's wattwaechter forms it.

    TXT ``id`` is ``WWP-<MAC>`` (Plus) or ``WWGW-<MAC>`` (gas/water); without it
    the TXT ``mac``, and for the plain ``_http`` advertisement the host name.
    """
    properties = discovery_info.properties
    if device_id := str(properties.get("id", "")).rpartition("-")[2]:
        return device_id
    if device_id := str(properties.get("mac", "")).replace(":", "").upper():
        return device_id
    for text in (discovery_info.hostname, discovery_info.name):
        if match := _ID_IN_NAME.search(text or ""):
            return match.group(1).upper()
    return ""


class CannotProbe(Exception):
    """The device check failed; ``error`` is the form error key."""

    def __init__(self, error: str, field: str = "base") -> None:
        """Keep the form error key and the field it belongs to."""
        super().__init__(error)
        self.error = error
        self.field = field


class WattwaechterConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a WattWächter by discovery or by host."""

    # Core's scheme: entries of either integration load in the other.
    VERSION = 1
    MINOR_VERSION = 3

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> WattwaechterOptionsFlow:
        """Return the options flow (the base class provides the entry)."""
        return WattwaechterOptionsFlow()

    def __init__(self) -> None:
        """Start with nothing known about the device."""
        self._host = ""
        self._device_id = ""
        self._model: str | None = None
        self._fw_version: str | None = None
        self._mac = ""
        self._name: str | None = None
        self._settings: Settings | None = None

    async def _probe(self, host: str, token: str | None = None) -> SystemInfo:
        """Read the device's system info (and name); raise CannotProbe on failure."""
        try:
            client = WattwaechterClient(
                host, async_get_clientsession(self.hass), read_token=token
            )
        except WattwaechterInvalidHostError as err:
            raise CannotProbe(err.reason, CONF_HOST) from err
        except WattwaechterInvalidTokenError as err:
            # Only a stored token can get here (typed ones are checked first).
            raise CannotProbe("invalid_auth") from err
        self._host = client.host
        client.gate = self._budget(client.host)
        try:
            info = await client.system_info(Priority.ACTION)
        except WattwaechterAuthError as err:
            raise CannotProbe("invalid_auth") from err
        except WattwaechterRetryLaterError as err:
            raise CannotProbe("device_busy") from err
        except WattwaechterConnectionError as err:
            raise CannotProbe("cannot_connect") from err
        except (WattwaechterBadResponseError, WattwaechterNoDataError) as err:
            raise CannotProbe("not_wattwaechter") from err
        except WattwaechterError as err:
            raise CannotProbe("cannot_connect") from err
        if not info.esp_id:
            raise CannotProbe("not_wattwaechter")
        try:
            self._settings = await client.settings(Priority.ACTION)
        except WattwaechterError:
            self._settings = None
        self._name = self._settings.device_name if self._settings else None
        self._take_system_info(info)
        return info

    async def _probe_tokens(self, token: str | None, write_token: str | None) -> None:
        """Probe with the READ token (or the WRITE token alone), then check WRITE."""
        if token is None and write_token is None:
            raise CannotProbe("token_required")
        await self._probe(self._host, token or write_token)
        if write_token is not None:
            await self._check_write_token(write_token)

    async def _check_write_token(self, write_token: str) -> None:
        """Check that a token may write, with a change that changes nothing.

        ``POST /settings`` with the LED setting (or, lacking it, the name) the
        device already has: 403 means the token may only read. Call after
        ``_probe`` (it uses the probed host and settings).
        """
        client = WattwaechterClient(
            self._host,
            async_get_clientsession(self.hass),
            write_token=write_token,
            gate=self._budget(self._host),
        )
        try:
            settings = self._settings or await client.settings(Priority.ACTION)
            if settings.led_enable is not None:
                unchanged: dict[str, Any] = {"ledEnable": settings.led_enable}
            elif settings.device_name is not None:
                unchanged = {"device_name": settings.device_name}
            else:
                raise CannotProbe("cannot_connect")
            await client.update_settings(unchanged)
        except WattwaechterForbiddenError as err:
            raise CannotProbe("write_token_read_only", CONF_WRITE_TOKEN) from err
        except WattwaechterAuthError as err:
            raise CannotProbe("invalid_write_token", CONF_WRITE_TOKEN) from err
        except WattwaechterRetryLaterError as err:
            raise CannotProbe("device_busy") from err
        except WattwaechterError as err:
            raise CannotProbe("cannot_connect") from err

    def _budget(self, host: str) -> RequestBudget:
        """Return the request budget of the device at ``host``.

        A reauth, a reconfigure or a rediscovery of a loaded device shares the
        budget of its polling; a new device's budget goes on to the entry the
        flow creates. The flow's requests count as user actions.
        """
        keys = [self._device_id]
        if entry_id := self.context.get("entry_id"):
            entry = self.hass.config_entries.async_get_entry(entry_id)
            if entry is not None:
                keys.append(BudgetRegistry.key(entry))
        return async_get_budgets(self.hass).async_lend(self.flow_id, keys, host)

    @callback
    def async_remove(self) -> None:
        """Give the device's request budget back when the flow ends."""
        async_get_budgets(self.hass).async_release(self.flow_id)

    def _take_system_info(self, info: SystemInfo) -> None:
        """Fill what discovery did not tell from the system info."""
        self._device_id = self._device_id or info.esp_id or ""
        self._mac = self._mac or info.mac_address or ""
        self._fw_version = info.firmware or self._fw_version
        self._model = info.model_id or self._model or MODEL_ID_PLUS

    def _title(self) -> str:
        """Return the device's own name, or core's default title."""
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
                CONF_FW_VERSION: self._fw_version,
                CONF_MAC: self._mac,
            },
        )

    async def async_step_zeroconf(
        self, discovery_info: ZeroconfServiceInfo
    ) -> ConfigFlowResult:
        """Handle a device found on ``_wattwaechter._tcp`` or ``_http._tcp``."""
        port = discovery_info.port
        self._host = HostAddress(
            str(discovery_info.ip_address), None if port in (None, 80) else port
        ).authority
        self._device_id = device_id_from_discovery(discovery_info)
        if not self._device_id:
            return self.async_abort(reason="no_device_id")
        model = discovery_info.properties.get("model")
        self._model = TXT_MODEL_IDS.get(model, model) if model else None
        self._fw_version = discovery_info.properties.get("ver")
        self._mac = discovery_info.properties.get("mac", "")

        await self.async_set_unique_id(self._device_id)
        known = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, self._device_id
        )
        if known is not None and known.data.get(CONF_HOST) != self._host:
            # The entry reloads at the new address: the one line that tells why
            # the device is back.
            _LOGGER.info(
                "%s announced itself at %s (was %s); connecting there",
                known.title,
                self._host,
                known.data.get(CONF_HOST),
            )
        self._abort_if_unique_id_configured(updates={CONF_HOST: self._host})

        try:
            info = await self._probe(self._host)
        except CannotProbe as err:
            if err.error != "invalid_auth":
                return self.async_abort(reason="cannot_connect")
            self.context["title_placeholders"] = {"name": self._title()}
            return await self.async_step_auth()
        if info.esp_id != self._device_id:
            # A stale advertisement: another device answers at that address now.
            return self.async_abort(reason="wrong_device")
        self.context["title_placeholders"] = {"name": self._title()}
        return await self.async_step_zeroconf_confirm()

    async def async_step_zeroconf_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user to add the discovered device.

        Also during onboarding: the device then waits under Discovered, so
        nothing joins Home Assistant without the user saying so.
        """
        if user_input is not None:
            return self._create_entry()
        return self.async_show_form(
            step_id="zeroconf_confirm",
            description_placeholders={
                "name": self._title(),
                "model": MODEL_NAMES.get(self._model or "", "WattWächter"),
                "firmware": self._fw_version or "?",
                "host": self._host,
            },
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the host and check that a WattWächter answers there."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                await self._probe(user_input[CONF_HOST])
            except CannotProbe as err:
                if err.error == "invalid_auth":
                    return await self.async_step_auth()
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(self._device_id, raise_on_progress=False)
                self._abort_if_unique_id_configured(updates={CONF_HOST: self._host})
                return self._create_entry()
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
        """Ask for the API tokens of a device with authentication on.

        Either token is enough to read; the write token is checked on its own.
        """
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                token = _field(user_input, CONF_TOKEN)
                write_token = _field(user_input, CONF_WRITE_TOKEN)
                await self._probe_tokens(token, write_token)
            except CannotProbe as err:
                errors[err.field] = err.error
            else:
                await self.async_set_unique_id(self._device_id, raise_on_progress=False)
                self._abort_if_unique_id_configured(
                    updates={
                        CONF_HOST: self._host,
                        CONF_TOKEN: token,
                        CONF_WRITE_TOKEN: write_token,
                    }
                )
                return self._create_entry(token, write_token)
        return self.async_show_form(
            step_id="auth",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_TOKEN): _PASSWORD,
                    vol.Optional(CONF_WRITE_TOKEN): _PASSWORD,
                }
            ),
            description_placeholders={"host": self._host},
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start reauthentication after the device refused the token (401)."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for new tokens and check they belong to the same device.

        Like the auth step, the WRITE token alone is enough to read; an empty
        field keeps the stored token (the other one may be what changed).
        """
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                token, write_token = await self._reauth_tokens(entry, user_input)
            except CannotProbe as err:
                errors[err.field] = err.error
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token},
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_TOKEN): _PASSWORD,
                    vol.Optional(CONF_WRITE_TOKEN): _PASSWORD,
                }
            ),
            description_placeholders={"host": entry.data[CONF_HOST]},
            errors=errors,
        )

    async def _reauth_tokens(
        self, entry: ConfigEntry, user_input: Mapping[str, Any]
    ) -> tuple[str | None, str | None]:
        """Return the tokens to store after checking them on the same device."""
        new_token = _field(user_input, CONF_TOKEN)
        new_write_token = _field(user_input, CONF_WRITE_TOKEN)
        token = new_token or entry.data.get(CONF_TOKEN)
        write_token = new_write_token or entry.data.get(CONF_WRITE_TOKEN)
        if token is None and write_token is None:
            raise CannotProbe("token_required")
        info = await self._probe(entry.data[CONF_HOST], token or write_token)
        await self.async_set_unique_id(info.esp_id)
        self._abort_if_unique_id_mismatch(reason="wrong_device")
        if new_write_token is not None:
            await self._check_write_token(new_write_token)
        return token, write_token

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the host or the tokens; an empty token field keeps the stored one.

        A new write token is checked without changing anything on the device.
        """
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                token = _field(user_input, CONF_TOKEN) or entry.data.get(CONF_TOKEN)
                new_write_token = _field(user_input, CONF_WRITE_TOKEN)
                write_token = new_write_token or entry.data.get(CONF_WRITE_TOKEN)
                info = await self._probe(user_input[CONF_HOST], token or write_token)
                await self.async_set_unique_id(info.esp_id)
                self._abort_if_unique_id_mismatch(reason="wrong_device")
                if new_write_token is not None:
                    await self._check_write_token(new_write_token)
            except CannotProbe as err:
                errors[err.field] = err.error
            else:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_HOST: self._host,
                        CONF_TOKEN: token,
                        CONF_WRITE_TOKEN: write_token,
                    },
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_HOST): TextSelector(),
                vol.Optional(CONF_TOKEN): _PASSWORD,
                vol.Optional(CONF_WRITE_TOKEN): _PASSWORD,
            }
        )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_HOST: (user_input or entry.data)[CONF_HOST]}
            ),
            errors=errors,
        )


class WattwaechterOptionsFlow(OptionsFlow):
    """Set how often the meter is polled and how far back history is imported."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the meter interval and the opt-in to daily values.

        A loaded entry uses the interval at once; the history import reads the
        opt-in at its next run.
        """
        entry = self.config_entry
        if user_input is not None:
            seconds = int(user_input[CONF_SCAN_INTERVAL])
            # Applied here rather than by an update listener: HA 2026.6+ warns
            # when an entry with update listeners is reloaded by reauth or
            # reconfigure, which this integration's flows do.
            if entry.state is ConfigEntryState.LOADED:
                entry.runtime_data.meter.async_set_interval(timedelta(seconds=seconds))
            return self.async_create_entry(
                data={
                    **entry.options,
                    CONF_SCAN_INTERVAL: seconds,
                    CONF_DAILY_HISTORY: bool(user_input[CONF_DAILY_HISTORY]),
                }
            )
        schema = vol.Schema(
            {
                vol.Required(CONF_SCAN_INTERVAL): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=MAX_SCAN_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Optional(CONF_DAILY_HISTORY, default=False): BooleanSelector(),
            }
        )
        current = {
            CONF_SCAN_INTERVAL: entry.options.get(
                CONF_SCAN_INTERVAL, int(DEFAULT_SCAN_INTERVAL.total_seconds())
            ),
            CONF_DAILY_HISTORY: entry.options.get(CONF_DAILY_HISTORY, False),
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, current),
        )
