"""Constants of the WattWächter integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "wattwaechter"
MANUFACTURER: Final = "SmartCircuits GmbH"

# Entry data: core's keys, so an entry of either integration loads in the other.
CONF_FW_VERSION: Final = "fw_version"
CONF_WRITE_TOKEN: Final = "write_token"

# Options.
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_DAILY_HISTORY: Final = "daily_history"

DEFAULT_SCAN_INTERVAL: Final = timedelta(seconds=10)
SYSTEM_INTERVAL: Final = timedelta(minutes=5)
SLOW_INTERVAL: Final = timedelta(hours=1)
"""Settings and LED status change when someone acts; this catches the web UI."""
OTA_INTERVAL: Final = timedelta(hours=6)

STALE_UPDATES: Final = 2
"""Meter updates without a new reading after which the reading is stale."""
STALE_ISSUE_AFTER: Final = timedelta(minutes=15)

HIGH_RES_DAYS: Final = 30
"""Days of 15-minute history the device keeps, today included."""
LOW_RES_DAYS: Final = 730
"""Days of daily history the device keeps (two years), today included."""
HISTORY_INTERVAL: Final = timedelta(hours=1)
HISTORY_FIRST_DELAY: Final = timedelta(minutes=1)
"""The import waits this long after setup, so the user's first actions go first."""

MODEL_NAMES: Final[dict[str, str]] = {
    "ww_plus": "WattWächter Plus",
    "ww_gw_mf": "WattWächter Gas/Wasser",
    "ww_gw_id": "WattWächter Gas/Wasser",
}
TXT_MODEL_IDS: Final[dict[str, str]] = {
    "WW-Plus": "ww_plus",
    "WW-GW-MF": "ww_gw_mf",
    "WW-GW-ID": "ww_gw_id",
}
"""Model IDs for the mDNS model TXT record, which core also stored as the model."""
