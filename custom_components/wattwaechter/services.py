"""Actions: import_history, repair_statistics, rotate_tokens (admin)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Final

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service
import voluptuous as vol

from .api.errors import WattwaechterError
from .compat import loaded_entry
from .const import DOMAIN, LOW_RES_DAYS
from .coordinator import WattwaechterConfigEntry
from .errors import action_error
from .reader import NotOurDeviceError
from .security import async_rotate_tokens
from .stats_repair import async_repair_statistics

ATTR_ENTRY: Final = "config_entry_id"
ENTRY_SCHEMA: Final = vol.Schema({vol.Required(ATTR_ENTRY): cv.string})
DAYS_SCHEMA: Final = ENTRY_SCHEMA.extend(
    {vol.Required("start"): cv.date, vol.Optional("end"): cv.date}
)
REPAIR_SCHEMA: Final = DAYS_SCHEMA.extend(
    {vol.Optional("dry_run", default=False): cv.boolean}
)


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
    return await async_repair_statistics(
        call.hass, entry, first, last, dry_run=call.data["dry_run"]
    )


async def _async_rotate_tokens(call: ServiceCall) -> None:
    await async_rotate_tokens(call.hass, _entry(call))
