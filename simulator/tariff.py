"""Two-tariff split of the import register (``tariff`` profile).

Every 15-minute slot belongs to tariff 1 or tariff 2 by its local start time
(``tariff_schedule``: when tariff 1 and tariff 2 begin). ``1.8.1`` sums the
import of tariff-1 slots, ``1.8.2`` is the rest, so ``1.8.0 = 1.8.1 + 1.8.2``
to the Wh at every moment and the registers switch exactly at the set times.
"""

from __future__ import annotations

from datetime import datetime
import math
from zoneinfo import ZoneInfo

from .meter import EPOCH0, SLOT_SECONDS, SLOTS_PER_DAY, MeterModel
from .profiles import parse_quarter

_DAY0 = EPOCH0 // 86_400
_PREFIX_CACHE: dict[tuple[object, ...], dict[int, int]] = {}


class TariffSplit:
    """The tariff-1 part of a meter's import at any time."""

    def __init__(self, model: MeterModel, tz: ZoneInfo, schedule: tuple[str, str]):
        """Split the import of ``model`` by local time in ``tz``."""
        self._model = model
        self._tz = tz
        self._t1 = parse_quarter(schedule[0])
        self._t2 = parse_quarter(schedule[1])
        self.base = model.base_import * 7 // 10
        key = (model.medium, model.seed, model.feed_in, str(tz), self._t1, self._t2)
        self._prefix = _PREFIX_CACHE.setdefault(key, {_DAY0: 0})

    def is_tariff_1(self, slot: int) -> bool:
        """Return True when slot number ``slot`` starts in tariff-1 time."""
        local = datetime.fromtimestamp(slot * SLOT_SECONDS, self._tz)
        quarter = local.hour * 4 + local.minute // 15
        if self._t1 < self._t2:
            return self._t1 <= quarter < self._t2
        return quarter >= self._t1 or quarter < self._t2

    def _day_total(self, day: int) -> int:
        """Return the tariff-1 import of UTC day ``day``."""
        first = day * SLOTS_PER_DAY
        return sum(
            self._model.slot_energy(slot)[0]
            for slot in range(first, first + SLOTS_PER_DAY)
            if self.is_tariff_1(slot)
        )

    def _before_day(self, day: int) -> int:
        """Return the tariff-1 import between ``EPOCH0`` and the start of ``day``."""
        prefix = self._prefix
        if day in prefix:
            return prefix[day]
        step = 1 if day > _DAY0 else -1
        known = max(d for d in prefix if d <= day) if step == 1 else min(prefix)
        while known != day:
            if step == 1:
                prefix[known + 1] = prefix[known] + self._day_total(known)
                known += 1
            else:
                prefix[known - 1] = prefix[known] - self._day_total(known - 1)
                known -= 1
        return prefix[day]

    def at_slot(self, slot: int) -> int:
        """Return the tariff-1 reading at the start of ``slot``."""
        day, index = divmod(slot, SLOTS_PER_DAY)
        first = day * SLOTS_PER_DAY
        today = sum(
            self._model.slot_energy(s)[0]
            for s in range(first, first + index)
            if self.is_tariff_1(s)
        )
        return self.base + self._before_day(day) + today

    def reading(self, at: float) -> int:
        """Return the tariff-1 reading at ``at`` (same share rule as the model)."""
        slot = math.floor(at / SLOT_SECONDS)
        value = self.at_slot(slot)
        if self.is_tariff_1(slot):
            share = min(max((at - slot * SLOT_SECONDS) / SLOT_SECONDS, 0.0), 1.0)
            value += math.floor(self._model.slot_energy(slot)[0] * share)
        return value
