"""Actions: import_history, repair_statistics, rotate_tokens (admin).

Recorded rows of the energy sensors can hold spikes (a 0 reading counted as a
new meter, a step back, a jump) and holes (Home Assistant was down): the repair
gives each hour of the range the device's reading and energy.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
import logging
from typing import Any, Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .api.errors import WattwaechterError
from .compat import loaded_entry
from .const import DOMAIN, HIGH_RES_DAYS, LOW_RES_DAYS
from .coordinator import WattwaechterConfigEntry, device_id
from .errors import action_error
from .history import (
    EXPORT,
    IMPORT,
    KINDS,
    Change,
    Hour,
    midnight,
    rebuild,
    trust_matching_days,
)
from .reader import NotOurDeviceError
from .recorder import last_rows, metadata, read_rows, shift_sums, write
from .security import async_rotate_tokens

_LOGGER = logging.getLogger(__name__)

ATTR_ENTRY: Final = "config_entry_id"
ENTRY_SCHEMA: Final = vol.Schema({vol.Required(ATTR_ENTRY): cv.string})
DAYS_SCHEMA: Final = ENTRY_SCHEMA.extend(
    {vol.Required("start"): cv.date, vol.Optional("end"): cv.date}
)
REPAIR_SCHEMA: Final = DAYS_SCHEMA.extend(
    {vol.Optional("dry_run", default=False): cv.boolean}
)
REGISTERS: Final = {IMPORT: "1.8.0", EXPORT: "2.8.0"}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN, "import_history", _async_read_history, schema=DAYS_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        "repair_statistics",
        _async_read_history,
        schema=REPAIR_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass, DOMAIN, "rotate_tokens", _async_rotate_tokens, schema=ENTRY_SCHEMA
    )


def _entry(call: ServiceCall) -> WattwaechterConfigEntry:
    return loaded_entry(call.hass, DOMAIN, call.data[ATTR_ENTRY])


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _days(call: ServiceCall, entry: WattwaechterConfigEntry) -> tuple[date, date]:
    """Return the days asked for; refuse what the device's memory cannot give."""
    importer = entry.runtime_data.history
    if "recorder" not in call.hass.config.components:
        raise _invalid("recorder_missing")
    if not importer.supported:
        raise _invalid("history_not_supported", device=entry.title)
    today = importer.today()
    start: date = call.data["start"]
    end: date = min(call.data.get("end", today), today)
    if start > today:
        raise _invalid("start_in_future", start=start.isoformat())
    if start > end:
        raise _invalid("invalid_range", start=start.isoformat(), end=end.isoformat())
    for oldest, key in (
        (today - timedelta(days=LOW_RES_DAYS - 1), "history_too_old"),
        (importer.oldest, "daily_history_disabled"),
    ):
        if start < oldest:
            raise _invalid(key, start=start.isoformat(), oldest=oldest.isoformat())
    return start, end


async def _async_read_history(call: ServiceCall) -> ServiceResponse:
    """Import or repair the days asked for, as a task of the entry.

    Unloading the entry ends the task (the action says so); a caller that
    gives up does not. Device errors become translated errors.
    """
    entry = _entry(call)
    first, last = _days(call, entry)
    host = entry.runtime_data.client.host
    if not entry.runtime_data.meter.last_update_success:
        raise action_error("history_device_away", host, name=entry.title)
    task = entry.async_create_background_task(
        call.hass, _async_work(call, entry, first, last), f"{DOMAIN} {call.service}"
    )
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # the caller left; the reading goes on
        raise action_error("history_cancelled", host, name=entry.title) from None
    except NotOurDeviceError as err:
        raise action_error("history_other_device", host, name=entry.title) from err
    except WattwaechterError as err:
        raise action_error(err, host) from err


async def _async_work(
    call: ServiceCall, entry: WattwaechterConfigEntry, first: date, last: date
) -> ServiceResponse:
    if call.service == "import_history":
        await entry.runtime_data.history.async_import_days(first, last)
        return None
    return await _async_repair(call, entry, first, last)


async def _async_repair(
    call: ServiceCall, entry: WattwaechterConfigEntry, first: date, last: date
) -> dict[str, Any]:
    """Rebuild the energy sensors' rows of the days ``first`` to ``last``."""
    hass, dry_run = call.hass, call.data["dry_run"]
    registry = er.async_get(hass)
    entities = {
        kind: entity_id
        for kind, code in REGISTERS.items()
        if (
            entity_id := registry.async_get_entity_id(
                "sensor", DOMAIN, f"{device_id(entry)}_{code}"
            )
        )
    }
    importer = entry.runtime_data.history
    requests = importer.reader.requests
    start, end = importer.span(first, last)
    device: dict[str, dict[int, Hour]] = {kind: {} for kind in KINDS}
    async for _day, _following, found_hours, _failed in importer.async_read_hours(
        first, last, end, lambda _day: False
    ):
        for kind, found in found_hours.items():
            device[kind].update((hour.start, hour) for hour in found)
    tz, one_day = importer.timezone(), timedelta(days=1)
    daily_last = min(last, importer.today() - timedelta(days=HIGH_RES_DAYS))
    days = [first + n * one_day for n in range((daily_last - first).days + 1)]
    daily_days = [(midnight(day, tz), midnight(day + one_day, tz)) for day in days]
    rows = await read_rows(hass, set(entities.values()), start)
    last_found = await last_rows(hass, set(entities.values()), start)
    previous = {entity_id: row for entity_id, (_start, row) in last_found.items()}
    report: dict[str, Any] = {}
    for kind, entity_id in entities.items():
        existing, before = rows[entity_id], previous.get(entity_id)
        trusted = trust_matching_days(device[kind], existing, before, daily_days)
        changes, shift = rebuild(start, end, trusted, existing, before)
        report[entity_id] = [_describe(c) for c in changes if c.visible]
        if not dry_run:
            write(hass, metadata(entity_id, None), [(c.start, c.new) for c in changes])
            shift_sums(hass, entity_id, end, shift)
    if not dry_run:
        _LOGGER.info(
            "Repaired the statistics of %s from %s to %s: %s",
            entry.title,
            first,
            last,
            ", ".join(f"{e} {len(c)} hours" for e, c in report.items()),
        )
    return {"statistics": report, "requests": importer.reader.requests - requests}


def _describe(change: Change) -> dict[str, Any]:
    """Return one changed hour for the action's response (kWh)."""
    old = change.old
    return {
        "start": dt_util.as_local(dt_util.utc_from_timestamp(change.start)).isoformat(),
        "old_energy": None if change.old_energy is None else change.old_energy / 1000,
        "new_energy": change.energy / 1000,
        "old_reading": None if old is None else old[0] / 1000,
        "new_reading": change.new[0] / 1000,
    }


async def _async_rotate_tokens(call: ServiceCall) -> None:
    await async_rotate_tokens(call.hass, _entry(call))
