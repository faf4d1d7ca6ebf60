"""Deterministic energy (or volume) model of the simulated meter.

Time is cut into 15-minute slots (aligned to the epoch, so also to local
quarter hours). Each slot has an integer amount of imported and exported
energy in Wh (litres for gas and water), drawn from a daily load profile,
a PV-like midday export and seeded pseudo-random variation. Meter readings
are exact integer sums of slots, so live counters and history agree to the
Wh by construction:

    reading(t) = base + sum(energy of completed slots) + floor(share of the
                 current slot)

The model is a pure function of (medium, seed, time); nothing depends on
when the simulator was started.
"""

from __future__ import annotations

from functools import lru_cache
import math
import random

SLOT_SECONDS = 900
"""Length of one history slot (15 minutes)."""
SLOTS_PER_DAY = 96
"""Slots per UTC day."""
EPOCH0 = 1_735_689_600
"""2025-01-01T00:00:00Z: the moment the readings equal ``BASE_READINGS``."""
_DAY0 = EPOCH0 // 86_400

BASE_READINGS: dict[str, tuple[int, int]] = {
    "electricity": (12_000_000, 3_000_000),  # Wh: 12 000 kWh import, 3 000 export
    "gas": (1_234_567, 0),  # litres: 1 234.567 m³
    "water": (155_500, 0),  # litres: 155.5 m³
}
"""Import/export readings at ``EPOCH0`` in Wh (electricity) or litres."""
OTHER_BASE_READINGS: dict[str, tuple[int, int]] = {
    "electricity": (4_321_000, 987_000),
    "gas": (8_765_432, 0),
    "water": (1_024_000, 0),
}
"""Readings of the other device at ``EPOCH0`` (``other_device``)."""
OTHER_SEED_OFFSET = 7919
"""Added to the seed for the other device's meter."""

_YEAR_DAYS = 365.2425


def _bell(hour: float, centre: float, width: float) -> float:
    """Return a Gaussian bump of height 1 around ``centre``."""
    x = (hour - centre) / width
    return math.exp(-0.5 * x * x)


def _season(day: int) -> float:
    """Return +1 at midsummer and -1 at midwinter (northern hemisphere)."""
    day_of_year = day % _YEAR_DAYS
    return math.cos(2 * math.pi * (day_of_year - 172) / _YEAR_DAYS)


def _electricity_day(
    rng: random.Random, day: int, feed_in: bool = True
) -> tuple[list[int], list[int]]:
    """Return (import Wh, export Wh) for the 96 slots of one UTC day.

    Without ``feed_in`` the household has no PV: the same load, nothing exported.
    """
    season = _season(day)
    winter = (1 - season) / 2
    summer = (1 + season) / 2
    cloud = 0.25 + 0.75 * math.sqrt(rng.random())
    pv_peak = 4200 * (0.35 + 0.65 * summer) * cloud
    pv_half_width = 4.0 + 3.5 * summer
    imports: list[int] = []
    exports: list[int] = []
    for k in range(SLOTS_PER_DAY):
        # Wall time in UTC+1 at the middle of the slot.
        hour = (k * 0.25 + 0.125 + 1) % 24
        load = (
            170
            + 320 * _bell(hour, 7.0, 1.0)
            + 160 * _bell(hour, 12.5, 1.5)
            + 620 * _bell(hour, 19.5, 1.8)
            + 90 * _bell(hour, 22.5, 1.0)
        )
        load *= (1 + 0.25 * winter) * (0.75 + 0.5 * rng.random())
        if rng.random() > 0.95 and 6 <= hour <= 23:
            load += 1200 + 1300 * rng.random()
        x = (hour - 13.25) / pv_half_width
        pv = 0.0
        if abs(x) < 1:
            pv = pv_peak * math.cos(x * math.pi / 2) ** 1.3 * (0.8 + 0.2 * rng.random())
        if not feed_in:
            pv = 0.0
        net = load - pv
        imports.append(round(max(net, 0.0) / 4))
        exports.append(round(max(-net, 0.0) / 4))
    return imports, exports


def _gas_day(rng: random.Random, day: int) -> tuple[list[int], list[int]]:
    """Return (litres, zeros) for the 96 slots of one UTC day."""
    demand = (1 - _season(day)) / 2
    litres: list[int] = []
    for k in range(SLOTS_PER_DAY):
        hour = (k * 0.25 + 0.125 + 1) % 24
        profile = (
            0.2
            + _bell(hour, 6.5, 1.2)
            + 0.7 * _bell(hour, 18.5, 2.0)
            + 0.3 * _bell(hour, 12.0, 3.0)
        )
        lph = 900 * demand * profile * (0.7 + 0.6 * rng.random())
        if rng.random() > 0.9 and 6 <= hour <= 22:
            lph += 300 * rng.random() + 100
        litres.append(round(lph / 4))
    return litres, [0] * SLOTS_PER_DAY


def _water_day(rng: random.Random, day: int) -> tuple[list[int], list[int]]:
    """Return (litres, zeros) for the 96 slots of one UTC day."""
    del day  # water use has no season in this model
    litres: list[int] = []
    for k in range(SLOTS_PER_DAY):
        hour = (k * 0.25 + 0.125 + 1) % 24
        lph = (
            25 * _bell(hour, 7.0, 1.0)
            + 10 * _bell(hour, 12.5, 1.5)
            + 20 * _bell(hour, 19.5, 1.5)
        ) * (0.5 + rng.random())
        if rng.random() > 0.96 and 6 <= hour <= 22:
            lph += 480
        litres.append(round(lph / 4))
    return litres, [0] * SLOTS_PER_DAY


def _compute_day(
    medium: str, seed: int, day: int, feed_in: bool = True
) -> tuple[list[int], list[int]]:
    """Compute the slots of one UTC day (string seeding is version-stable)."""
    rng = random.Random(f"wattwaechter:{medium}:{seed}:{day}")
    if medium == "gas":
        return _gas_day(rng, day)
    if medium == "water":
        return _water_day(rng, day)
    return _electricity_day(rng, day, feed_in)


@lru_cache(maxsize=512)
def day_slots(
    medium: str, seed: int, day: int, feed_in: bool = True
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Return (import, export) per slot of UTC day ``day`` (cached)."""
    imports, exports = _compute_day(medium, seed, day, feed_in)
    return tuple(imports), tuple(exports)


class _DayPrefix:
    """Cumulative energy from ``EPOCH0`` to the start of a UTC day."""

    def __init__(self, medium: str, seed: int, feed_in: bool) -> None:
        self._medium = medium
        self._seed = seed
        self._feed_in = feed_in
        self._forward: list[tuple[int, int]] = [(0, 0)]  # day _DAY0 + i
        self._backward: list[tuple[int, int]] = [(0, 0)]  # day _DAY0 - i

    def _totals(self, day: int) -> tuple[int, int]:
        imports, exports = _compute_day(self._medium, self._seed, day, self._feed_in)
        return sum(imports), sum(exports)

    def at(self, day: int) -> tuple[int, int]:
        """Return (import, export) accumulated between ``EPOCH0`` and ``day``."""
        offset = day - _DAY0
        if offset >= 0:
            while len(self._forward) <= offset:
                imp, exp = self._totals(_DAY0 + len(self._forward) - 1)
                last = self._forward[-1]
                self._forward.append((last[0] + imp, last[1] + exp))
            return self._forward[offset]
        back = -offset
        while len(self._backward) <= back:
            imp, exp = self._totals(_DAY0 - len(self._backward))
            last = self._backward[-1]
            self._backward.append((last[0] - imp, last[1] - exp))
        return self._backward[back]


_PREFIXES: dict[tuple[str, int, bool], _DayPrefix] = {}


class MeterModel:
    """Readings and slot energies of one simulated meter."""

    def __init__(
        self,
        medium: str = "electricity",
        seed: int = 1,
        *,
        feed_in: bool = True,
        other: bool = False,
    ) -> None:
        """Create the model for ``medium`` with the pseudo-random ``seed``.

        ``feed_in=False`` is a household without PV; ``other`` is the meter of
        the other device (another seed and other base readings).
        """
        self.medium = medium
        self.seed = seed + OTHER_SEED_OFFSET if other else seed
        self.feed_in = feed_in or medium != "electricity"
        key = (medium, self.seed, self.feed_in)
        if key not in _PREFIXES:
            _PREFIXES[key] = _DayPrefix(medium, self.seed, self.feed_in)
        self._prefix = _PREFIXES[key]
        table = OTHER_BASE_READINGS if other else BASE_READINGS
        self.base_import, self.base_export = table[medium]
        if not self.feed_in:
            self.base_export = 0

    def _day(self, day: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Return the slots of UTC day ``day``."""
        return day_slots(self.medium, self.seed, day, self.feed_in)

    def slot_energy(self, slot: int) -> tuple[int, int]:
        """Return (import, export) of slot number ``slot`` (epoch // 900)."""
        day, index = divmod(slot, SLOTS_PER_DAY)
        imports, exports = self._day(day)
        return imports[index], exports[index]

    def reading_at_slot(self, slot: int) -> tuple[int, int]:
        """Return the (import, export) reading at the start of ``slot``."""
        day, index = divmod(slot, SLOTS_PER_DAY)
        acc_imp, acc_exp = self._prefix.at(day)
        imports, exports = self._day(day)
        return (
            self.base_import + acc_imp + sum(imports[:index]),
            self.base_export + acc_exp + sum(exports[:index]),
        )

    def reading(self, at: float) -> tuple[int, int]:
        """Return the (import, export) reading at epoch time ``at``.

        The running slot contributes the floor of its linear share, so the
        reading never decreases and meets the next slot start exactly.
        """
        slot = math.floor(at / SLOT_SECONDS)
        share = (at - slot * SLOT_SECONDS) / SLOT_SECONDS
        share = min(max(share, 0.0), 1.0)
        imp0, exp0 = self.reading_at_slot(slot)
        imp, exp = self.slot_energy(slot)
        return imp0 + math.floor(imp * share), exp0 + math.floor(exp * share)

    def net_power(self, at: float) -> float:
        """Return the average net power (W, import positive) of the running slot.

        For gas/water this is the flow in litres per hour.
        """
        imp, exp = self.slot_energy(math.floor(at / SLOT_SECONDS))
        return float((imp - exp) * 4)


def to_kilo(units: int) -> float:
    """Convert Wh to kWh (or litres to m³), rounded to 3 decimals."""
    return round(units / 1000, 3)
