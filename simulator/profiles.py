"""Households the simulator can play (``SimulatorConfig.profile``).

A profile picks which registers ``/history/latest`` carries and whether the
household feeds in; the energy model underneath stays the same, so history
and live counters agree in every profile.
"""

from __future__ import annotations

PROFILES = (
    "default",
    "no_feed_in",
    "single_phase",
    "import_only",
    "gas",
    "water",
    "clock_off",
    "tariff",
)
"""Every profile name."""

PROFILE_HELP = {
    "default": "import, PV export, three phases",
    "no_feed_in": "2.8.0 present but always 0.0 (no PV)",
    "single_phase": "only L1 power, voltage and current",
    "import_only": "only 1.8.0 (and the timestamp), no PV",
    "gas": "gas meter (7-0:3.0.0 m³, gw block)",
    "water": "water meter (8-0:1.0.0 m³, gw block)",
    "clock_off": "the meter's reading time runs hours off",
    "tariff": "1.8.1/1.8.2 switch at tariff_schedule, 1.8.0 = 1.8.1 + 1.8.2",
}
"""One line per profile for ``--help`` and the README."""

MEDIUM_PROFILES = frozenset({"gas", "water"})
"""Profiles that make a gas or water device."""

NO_PV_PROFILES = frozenset({"no_feed_in", "import_only"})
"""Electricity profiles without a PV system (nothing is exported)."""

CLOCK_OFF_SECONDS = -3 * 3600.0
"""How far the meter's clock is off in the ``clock_off`` profile."""

SINGLE_PHASE_DROPPED = (
    "56.7.0",
    "76.7.0",
    "52.7.0",
    "72.7.0",
    "51.7.0",
    "71.7.0",
)
"""L2/L3 registers a single-phase meter does not have."""

IMPORT_ONLY_KEPT = frozenset({"1.8.0"})
"""The only register of the ``import_only`` profile."""


def feeds_in(profile: str) -> bool:
    """Return True when the household of ``profile`` has PV export."""
    return profile not in NO_PV_PROFILES


def parse_quarter(text: str) -> int:
    """Return the quarter hour of the day (0-95) of ``HH:MM``; ValueError if not one."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit():
        msg = f"tariff time must be HH:MM, got {text!r}"
        raise ValueError(msg)
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and m in (0, 15, 30, 45)):
        msg = f"tariff time must be a quarter hour of the day, got {text!r}"
        raise ValueError(msg)
    return h * 4 + m // 15
