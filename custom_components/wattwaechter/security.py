"""New API tokens for a device: rotation, and turning authentication on.

Both generate a pair, confirm it with the current WRITE token and store only
what the device confirmed; when an answer is lost, a read tells what it took.
"""

from __future__ import annotations

from copy import copy
import logging

from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant

from .api.budget import Priority
from .api.client import WattwaechterClient
from .api.errors import (
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterConnectionError,
    WattwaechterError,
    WattwaechterForbiddenError,
    WattwaechterInvalidInputError,
)
from .api.inputs import clean_token
from .const import CONF_WRITE_TOKEN
from .coordinator import WattwaechterConfigEntry
from .errors import action_error
from .issues import WRITE_TOKEN, async_set_issue

_LOGGER = logging.getLogger(__name__)
ACTION = Priority.ACTION


async def async_rotate_tokens(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Give the device a new token pair; raise a translated HomeAssistantError."""
    client = entry.runtime_data.client
    try:
        pair = await _async_generate(client)
        try:
            await client.confirm_tokens(pair[1], ACTION)
        except WattwaechterConnectionError as err:
            _LOGGER.info("%s: the answer to new tokens was lost: %s", client.host, err)
            if not await _async_new_pair_works(client, pair):
                raise action_error("rotation_not_applied", client.host) from err
    except WattwaechterError as err:
        if isinstance(err, WattwaechterForbiddenError):
            async_set_issue(hass, entry, WRITE_TOKEN, True)
        raise action_error(err, client.host) from err
    _store(hass, entry, pair)
    _LOGGER.info("The WattWächter at %s has new API tokens", client.host)


async def async_enable_auth(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Turn API authentication on with a new pair; the error names the step."""
    runtime = entry.runtime_data
    client = runtime.client
    try:
        pair = await _async_generate(client)
        await client.confirm_tokens(pair[1], ACTION)
    except WattwaechterError as err:
        raise action_error("secure_tokens_failed", client.host) from err
    _store(hass, entry, pair)
    try:
        await client.update_settings({"api_auth_required": True}, ACTION)
    except WattwaechterConnectionError:
        pass  # maybe applied: the read below tells
    except WattwaechterError as err:
        raise action_error("secure_enable_failed", client.host) from err
    try:
        settings = await client.settings(ACTION)
    except WattwaechterError as err:
        raise action_error("secure_verify_failed", client.host) from err
    runtime.settings.async_set_updated_data(settings)
    if settings.api_auth_required is not True:
        raise action_error("secure_enable_failed", client.host)
    _LOGGER.info("The WattWächter at %s requires API tokens now", client.host)


async def _async_generate(client: WattwaechterClient) -> tuple[str, str]:
    """Return a new pair; one the client could not send would lock HA out."""
    pending = await client.generate_tokens(ACTION)
    try:
        read, write = clean_token(pending.read_token), clean_token(pending.write_token)
    except WattwaechterInvalidInputError as err:
        raise WattwaechterBadResponseError("the device sent unusable tokens") from err
    if read is None or write is None:
        raise WattwaechterBadResponseError("the device sent no complete token pair")
    return read, write


async def _async_new_pair_works(
    client: WattwaechterClient, pair: tuple[str, str]
) -> bool:
    """Return True when the device takes the new pair, False when the old one."""
    probe = copy(client)  # the same host, session and request budget
    probe.set_tokens(*pair)
    for candidate, new in ((probe, True), (client, False)):
        try:
            await candidate.settings(ACTION)
        except WattwaechterAuthError:
            continue
        except WattwaechterError as err:
            raise action_error("rotation_unknown", client.host) from err
        return new
    raise action_error("rotation_unknown", client.host)


def _store(
    hass: HomeAssistant, entry: WattwaechterConfigEntry, pair: tuple[str, str]
) -> None:
    entry.runtime_data.client.set_tokens(*pair)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_TOKEN: pair[0], CONF_WRITE_TOKEN: pair[1]}
    )
    async_set_issue(hass, entry, WRITE_TOKEN, False)
