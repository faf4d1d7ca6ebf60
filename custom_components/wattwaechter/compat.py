"""Every branch on the Home Assistant version, in one place (2025.4 to newest)."""

from __future__ import annotations

import inspect
from typing import Any, cast

from homeassistant.components.recorder.models import StatisticMetaData
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir, service

ISSUES_KNOW_ENTRIES = (
    "config_entry_id" in inspect.signature(ir.async_create_issue).parameters
)

UNIT_CLASS_IN_METADATA = "unit_class" in StatisticMetaData.__annotations__
"""HA 2025.11+ wants ``unit_class``; before, it would break the metadata insert."""


def issue_entry(entry: ConfigEntry) -> dict[str, Any]:
    """HA 2026.11+: an issue names its entry and goes when the entry is removed."""
    return {"config_entry_id": entry.entry_id} if ISSUES_KNOW_ENTRIES else {}


def metadata_unit_class(unit_class: str | None) -> dict[str, Any]:
    """Return the unit-class part of statistics metadata for this HA."""
    if UNIT_CLASS_IN_METADATA:
        return {"unit_class": unit_class}
    return {"has_mean": False}


def loaded_entry(hass: HomeAssistant, domain: str, entry_id: str) -> ConfigEntry:
    """Return a loaded entry of ``domain`` for an action, or raise (HA's helper)."""
    if helper := getattr(service, "async_get_config_entry", None):
        return cast(ConfigEntry, helper(hass, domain, entry_id))
    entry = hass.config_entries.async_get_entry(entry_id)  # HA without the helper
    if entry is None or entry.domain != domain:
        raise ServiceValidationError(
            translation_domain=domain,
            translation_key="unknown_entry",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=domain,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry
