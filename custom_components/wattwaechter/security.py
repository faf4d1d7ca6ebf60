"""New API tokens for a device: rotation, and turning authentication on.

Both use the device's two-phase change: ``POST /auth/tokens/generate`` makes a
pending pair, ``POST /auth/tokens/confirm`` (authenticated with the current
WRITE token) activates it. Nothing is stored before the device confirmed.

Every step is ordered so that Home Assistant can always reach the device with
what the entry holds:

Rotation (``async_rotate_tokens``)
  1. generate; 2. confirm; 3. store the pair (READ as ``token``, WRITE as
  ``write_token``). When confirm's answer is lost, the device may or may not
  have switched: a read with the new pair, then with the old one, tells which
  works, and that one is kept.

Turning authentication on (``async_enable_auth``, the repair fix flow)
  1. generate; 2. confirm (auth is still off: any token works); 3. store the
  new pair, which also works while auth is off; 4. ``POST /settings
  {"api_auth_required": true}`` with the new WRITE token; 5. read the settings
  back with the new READ token. A failure at 1 or 2 leaves everything as it
  was; a failure at 4 leaves auth off with the new tokens stored (they will be
  the right ones when auth is turned on later); a lost answer at 4 is settled
  by the read at 5.

The entry's tokens change while loaded, without a reload: the client gets the
new pair at once. The entry's token lock is held meanwhile, so a poll refused
with an old token is asked again instead of starting a reauth.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging

from homeassistant.const import CONF_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .api import (
    CAUSE_ACTION,
    PendingTokens,
    Priority,
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterClient,
    WattwaechterConnectionError,
    WattwaechterError,
    WattwaechterInvalidTokenError,
    clean_token,
    request_cause,
)
from .const import CONF_WRITE_TOKEN, DOMAIN
from .coordinator import WattwaechterConfigEntry
from .helpers import action_error, action_error_for
from .issues import async_delete_write_token_issue

_LOGGER = logging.getLogger(__name__)


class SecureError(HomeAssistantError):
    """Turning authentication on stopped; ``translation_key`` tells where."""

    def __init__(self, key: str, host: str) -> None:
        """Name the step that failed."""
        super().__init__(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={"host": host},
        )
        self.key = key


async def async_rotate_tokens(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Give the device a new token pair; raise a translated HomeAssistantError."""
    # Every request, the probes too, is the user's action for the budget.
    with request_cause(CAUSE_ACTION):
        await _async_rotate(hass, entry)
    _LOGGER.info("WattWächter at %s has new API tokens", entry.runtime_data.client.host)


async def _async_rotate(hass: HomeAssistant, entry: WattwaechterConfigEntry) -> None:
    """Generate, confirm (or find out), store."""
    runtime = entry.runtime_data
    client = runtime.client
    async with runtime.token_lock:
        try:
            pending = _complete(await client.generate_tokens())
        except WattwaechterError as err:
            raise action_error_for(hass, entry, err) from err
        try:
            await client.confirm_tokens(pending.write)
        except WattwaechterConnectionError as err:
            # The answer is lost: did the device switch before it went?
            _LOGGER.info(
                "WattWächter at %s: the answer to the token confirmation was "
                "lost (%s); checking which tokens it accepts",
                client.host,
                err,
            )
            if not await _new_tokens_work(hass, client, pending):
                raise action_error("rotation_not_applied", client.host) from err
        except WattwaechterError as err:
            raise action_error_for(hass, entry, err) from err
        _store(hass, entry, pending)


async def async_enable_auth(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Turn the device's API authentication on with a new token pair.

    Raises ``SecureError`` naming the step that failed; the device stays
    reachable with what the entry then holds.
    """
    with request_cause(CAUSE_ACTION):
        await _async_enable_auth(hass, entry)
    _LOGGER.info(
        "WattWächter at %s: API authentication is on", entry.runtime_data.client.host
    )


async def _async_enable_auth(
    hass: HomeAssistant, entry: WattwaechterConfigEntry
) -> None:
    """Generate, confirm, store, turn on, read back."""
    runtime = entry.runtime_data
    client = runtime.client
    host = client.host
    async with runtime.token_lock:
        try:
            pending = _complete(await client.generate_tokens())
            await client.confirm_tokens(pending.write)
        except WattwaechterError as err:
            # Nothing changed that matters: auth is still off.
            raise SecureError("secure_tokens_failed", host) from err
        _store(hass, entry, pending)
        try:
            await client.update_settings({"api_auth_required": True})
        except WattwaechterConnectionError:
            # Maybe applied, maybe not: the read below tells.
            pass
        except WattwaechterError as err:
            raise SecureError("secure_enable_failed", host) from err
        try:
            # Read back with the new READ token; the settings (and with them
            # the repair issue) are updated from the answer.
            settings = await runtime.controls.async_refresh_settings()
        except WattwaechterError as err:
            raise SecureError("secure_verify_failed", host) from err
    if settings.api_auth_required is not True:
        raise SecureError("secure_enable_failed", host)


@dataclass(frozen=True, slots=True)
class _Pair:
    """A complete token pair."""

    read: str
    write: str


def _complete(pending: PendingTokens) -> _Pair:
    """Return the generated pair, checked before it is confirmed.

    A pair the client could not send (missing, or with characters no header
    may carry) is refused here: confirmed, it would lock Home Assistant out.
    """
    try:
        read, write = clean_token(pending.read_token), clean_token(pending.write_token)
    except WattwaechterInvalidTokenError as err:
        raise WattwaechterBadResponseError("the device sent unusable tokens") from err
    if read is None or write is None:
        raise WattwaechterBadResponseError("the device sent no complete token pair")
    return _Pair(read, write)


async def _new_tokens_work(
    hass: HomeAssistant, client: WattwaechterClient, pending: _Pair
) -> bool:
    """Return True when the device takes the new pair, False when the old one.

    Raises when it answers neither (then nothing is known, nothing is stored).
    """
    probe = WattwaechterClient(
        client.host,
        async_get_clientsession(hass),
        read_token=pending.read,
        write_token=pending.write,
        gate=client.gate,
    )
    try:
        await probe.settings(Priority.ACTION)
    except WattwaechterAuthError:
        pass
    except WattwaechterError as err:
        raise action_error("rotation_unknown", client.host) from err
    else:
        # With auth off both pairs are accepted; the new one is then as good.
        return True
    try:
        await client.settings(Priority.ACTION)
    except WattwaechterError as err:
        raise action_error("rotation_unknown", client.host) from err
    return False


def _store(hass: HomeAssistant, entry: WattwaechterConfigEntry, pair: _Pair) -> None:
    """Keep the pair in the entry and use it from now on."""
    entry.runtime_data.client.set_tokens(pair.read, pair.write)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_TOKEN: pair.read, CONF_WRITE_TOKEN: pair.write}
    )
    async_delete_write_token_issue(hass, entry)
