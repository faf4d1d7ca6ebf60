"""One request budget per device, shared by everything that talks to it.

The device counts the requests of all its clients together, so every entry
and every config flow that points to one device must send through one
``RequestBudget``:

* Two entries for one device (one left over from core's integration, say)
  share a budget instead of getting twice the share.
* A config flow borrows the budget of the device it probes, made for it if no
  entry uses the device yet. The entry the flow creates then takes over the
  same budget, with the flow's requests still in its window.
* A budget nobody uses any more stays a little longer: until its window (or
  a pause the device asked for) is over, so an entry that reloads, or is set
  up right after its flow, cannot start with an empty window the device does
  not have.

Users are named by their entry ID or flow ID; devices by their device ID,
else by their host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from homeassistant.const import CONF_DEVICE_ID, CONF_HOST, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util.hass_dict import HassKey

from .api import RequestBudget
from .const import DOMAIN
from .coordinator import WattwaechterConfigEntry


@dataclass(eq=False)
class _SharedBudget:
    """One device's request budget, its names and who uses it."""

    budget: RequestBudget
    keys: set[str] = field(default_factory=set)
    """The names of the device it is filed under (device ID, host)."""
    users: dict[str, str] = field(default_factory=dict)
    """The host each user (entry ID or flow ID) talks to."""
    hosts: set[str] = field(default_factory=set)
    """Every host it was used with, also while it lingers."""
    cancel_expiry: CALLBACK_TYPE | None = None


def _host_key(host: str) -> str:
    """Return the name of a device known only by its address."""
    return host.upper()


class BudgetRegistry:
    """The budgets of the devices Home Assistant talks to."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start empty; close every budget when Home Assistant stops."""
        self._hass = hass
        self._shared: dict[str, _SharedBudget] = {}
        self._stopped = False
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_close_all)

    @staticmethod
    def key(entry: WattwaechterConfigEntry) -> str:
        """Return the device an entry points to: its device ID, else its host."""
        device_id = entry.data.get(CONF_DEVICE_ID) or entry.unique_id
        if device_id:
            return str(device_id).upper()
        return _host_key(str(entry.data[CONF_HOST]))

    def get(self, key: str) -> RequestBudget | None:
        """Return the budget of a device (device ID or host), if there is one."""
        shared = self._shared.get(key.upper())
        return None if shared is None else shared.budget

    @callback
    def async_acquire(self, entry: WattwaechterConfigEntry) -> RequestBudget:
        """Return the entry's device budget; give it back when the entry unloads."""
        budget = self._async_take(
            entry.entry_id, [self.key(entry)], str(entry.data[CONF_HOST])
        )
        entry.async_on_unload(partial(self.async_release, entry.entry_id))
        return budget

    @callback
    def async_lend(
        self, user: str, keys: Iterable[str | None], host: str
    ) -> RequestBudget:
        """Return the budget for a flow's requests to ``host``, made if needed.

        ``keys`` are the device IDs the flow knows. A flow that moves on to
        another host gives back the budget of the first.
        """
        keys = list(keys)
        shared = self._find(keys, host)
        if shared is None or user not in shared.users:
            self.async_release(user)
        return self._async_take(user, keys, host)

    @callback
    def async_release(self, user: str) -> None:
        """Give back what ``user`` took; an unused budget lingers, then closes."""
        for shared in {id(s): s for s in self._shared.values()}.values():
            if shared.users.pop(user, None) is None or shared.users:
                continue
            if self._stopped:
                self._async_expire(shared)
                continue
            # Nobody will take the answers of requests still waiting.
            shared.budget.fail_waiting()
            linger = max(
                shared.budget.window + shared.budget.margin, shared.budget.paused_for
            )
            shared.cancel_expiry = async_call_later(
                self._hass, linger, partial(self._async_expire, shared)
            )

    def _find(self, keys: Iterable[str | None], host: str) -> _SharedBudget | None:
        """Return the shared budget filed under a key, else used with ``host``."""
        for key in keys:
            if key and (shared := self._shared.get(key.upper())):
                return shared
        host = host.lower()
        for shared in self._shared.values():
            if host in shared.hosts:
                return shared
        return None

    @callback
    def _async_take(
        self, user: str, keys: Iterable[str | None], host: str
    ) -> RequestBudget:
        """File ``user`` as a user of the device's budget; return the budget."""
        names = [key.upper() for key in keys if key] or [_host_key(host)]
        shared = self._find(names, host)
        if shared is None:
            shared = _SharedBudget(RequestBudget())
        if shared.cancel_expiry is not None:
            shared.cancel_expiry()
            shared.cancel_expiry = None
        for name in names:
            self._shared.setdefault(name, shared)
            shared.keys.add(name)
        shared.users[user] = host.lower()
        shared.hosts.add(host.lower())
        return shared.budget

    @callback
    def _async_expire(self, shared: _SharedBudget, _now: object = None) -> None:
        """Forget a budget that stayed unused for its whole window."""
        shared.cancel_expiry = None
        if shared.users:
            return
        for key in shared.keys:
            if self._shared.get(key) is shared:
                del self._shared[key]
        shared.budget.close()

    @callback
    def _async_close_all(self, _event: Event) -> None:
        """Release requests still waiting for a slot: nothing will serve them."""
        self._stopped = True
        for shared in self._shared.values():
            if shared.cancel_expiry is not None:
                shared.cancel_expiry()
                shared.cancel_expiry = None
            shared.budget.close()


DATA_BUDGETS: HassKey[BudgetRegistry] = HassKey(f"{DOMAIN}_budgets")


@callback
def async_get_budgets(hass: HomeAssistant) -> BudgetRegistry:
    """Return the integration's budget registry, creating it on first use."""
    if (registry := hass.data.get(DATA_BUDGETS)) is None:
        registry = hass.data[DATA_BUDGETS] = BudgetRegistry(hass)
    return registry
