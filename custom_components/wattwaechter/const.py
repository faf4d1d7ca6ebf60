"""Constants of the WattWächter integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "wattwaechter"
MANUFACTURER: Final = "SmartCircuits GmbH"

# Config entry data. The keys are the ones HA core's wattwaechter uses, so an
# entry created by either integration loads in the other.
CONF_FW_VERSION: Final = "fw_version"
CONF_WRITE_TOKEN: Final = "write_token"

# Options.
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_DAILY_HISTORY: Final = "daily_history"
"""Import the device's daily values for days older than its 15-minute memory."""

DEFAULT_SCAN_INTERVAL: Final = timedelta(seconds=10)
MIN_SCAN_INTERVAL: Final = 5
MAX_SCAN_INTERVAL: Final = 300
SYSTEM_INTERVAL: Final = timedelta(minutes=5)
# Settings (LED, auth) and the LED status change only when someone acts: they
# are read back after our own changes and after a restart or firmware change;
# this slow look only catches changes made in the web UI or the app.
CONTROLS_INTERVAL: Final = timedelta(hours=1)
# The vendor's update server is asked at most every 6 hours (and on demand).
OTA_INTERVAL: Final = timedelta(hours=6)
# A reboot takes the device off the network for about this long; the
# coordinators send nothing meanwhile.
REBOOT_PAUSE_SECONDS: Final = 10.0

# Repair issue raised when an action needs the write token (one per entry).
ISSUE_WRITE_TOKEN: Final = "write_token_required"

# History backfill (statistics.py).
HIGH_RES_DAYS: Final = 30
"""Days of 15-minute history the device keeps, today included."""
LOW_RES_DAYS: Final = 730
"""Days of daily history the device keeps (two years), today included."""
BACKFILL_INTERVAL: Final = timedelta(hours=1)
"""How often the imported statistics are brought up to date."""

MODEL_ID_PLUS: Final = "ww_plus"
MODEL_NAMES: Final[dict[str, str]] = {
    MODEL_ID_PLUS: "WattWächter Plus",
    "ww_gw_mf": "WattWächter Gas/Wasser",
    "ww_gw_id": "WattWächter Gas/Wasser",
}
# The mDNS model TXT record, which core also stored as the entry's model.
TXT_MODEL_IDS: Final[dict[str, str]] = {
    "WW-Plus": MODEL_ID_PLUS,
    "WW-GW-MF": "ww_gw_mf",
    "WW-GW-ID": "ww_gw_id",
}
