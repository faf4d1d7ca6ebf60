"""Helpers of the entity tests: set a device up as a user does, look at what shows.

Every helper reads what a user would see: states, registry entries, repairs,
log lines, and the simulator's request log.
"""

from __future__ import annotations

import logging

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_HOST, CONF_TOKEN
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import Simulator

OUR_LOGGER = "custom_components.wattwaechter"
API = "/api/v1"
LATEST = f"{API}/history/latest"
SYSTEM_INFO = f"{API}/system/info"
SETTINGS = f"{API}/settings"
LED = f"{API}/system/led"
OTA_CHECK = f"{API}/ota/check"
OTA_START = f"{API}/ota/start"
REBOOT = f"{API}/system/reboot"
INTERVAL = 10.0
"""The meter's default update interval (seconds)."""


async def setup_via_flow(
    hass: HomeAssistant,
    device: Simulator,
    token: str | None = None,
    write_token: str | None = None,
) -> ConfigEntry:
    """Add the simulated device through the real user flow, as a user would."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: f"127.0.0.1:{device.port}"}
    )
    if result["type"] is FlowResultType.FORM and result["step_id"] == "auth":
        tokens = {CONF_TOKEN: token, CONF_WRITE_TOKEN: write_token}
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {key: value for key, value in tokens.items() if value}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    return entry


def entity_id(
    hass: HomeAssistant, entry: ConfigEntry, key: str, domain: str = "sensor"
) -> str:
    """Return the entity ID of ``<device_id>_<key>`` (the bare ID for ``""``)."""
    unique_id = f"{entry.unique_id}_{key}" if key else str(entry.unique_id)
    found = er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id)
    assert found is not None, f"no {domain} entity for {key!r}"
    return found


def exists(
    hass: HomeAssistant, entry: ConfigEntry, key: str, domain: str = "sensor"
) -> bool:
    """Return True when the entity of ``key`` is in the registry."""
    unique_id = f"{entry.unique_id}_{key}" if key else str(entry.unique_id)
    return er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id) is not None


def state(
    hass: HomeAssistant, entry: ConfigEntry, key: str, domain: str = "sensor"
) -> State:
    """Return the state of ``<device_id>_<key>``."""
    found = hass.states.get(entity_id(hass, entry, key, domain))
    assert found is not None, f"no state for {domain} {key!r}"
    return found


def value(hass: HomeAssistant, entry: ConfigEntry, key: str) -> float:
    """Return the numeric state of the sensor of ``key``."""
    return float(state(hass, entry, key).state)


def record(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, list[State]]:
    """Collect every state written for ``entity_ids`` from now on."""
    seen: dict[str, list[State]] = {entity: [] for entity in entity_ids}

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            seen[new.entity_id].append(new)

    async_track_state_change_event(hass, entity_ids, changed)
    return seen


def issue(hass: HomeAssistant, kind: str, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the entry's repair issue of ``kind``, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry.entry_id}")


def ours(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    """Return our log lines at ``level`` and above."""
    return [
        f"{r.levelname} {r.getMessage()}"
        for r in caplog.records
        if r.name.startswith(OUR_LOGGER) and r.levelno >= level
    ]


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """No record above DEBUG of our loggers or HA's has a traceback.

    HA's coordinator (2026.x) adds its own "Full error" record at DEBUG with
    the traceback of every failed update: HA's, not ours, and it stays.
    """
    for r in caplog.records:
        if not r.name.startswith((OUR_LOGGER, "homeassistant")) or (
            r.levelno <= logging.DEBUG and r.getMessage() == "Full error:"
        ):
            continue
        assert not r.exc_info, f"traceback in {r.name}: {r.getMessage()}"
        assert not r.exc_text, f"traceback in {r.name}: {r.getMessage()}"
        assert "Traceback" not in r.getMessage(), r.getMessage()


def paths(device: Simulator, since: float = 0.0) -> list[str]:
    """Return the API paths the device was asked for since ``since`` (no prefix)."""
    return [
        r.path.removeprefix(API)
        for r in device.request_log
        if r.time >= since and r.status != 0
    ]
