"""What the meter displays: the energy model shifted by exchanges and corrections.

The model (``meter.py``) is the physical consumption. A meter exchange or a
correction of the reading sets the displayed registers to given values at
one moment; from then on they grow with the model again. Live counters and
the history's readings both come from here, so they agree in every case.
An exchange also starts a new ``gw.meterSince``; a correction keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .meter import SLOT_SECONDS, MeterModel
from .tariff import TariffSplit


class Registers(NamedTuple):
    """Displayed totals in Wh (litres for gas/water)."""

    imp: int
    """Import (``1.8.0``) or volume."""
    exp: int
    """Export (``2.8.0``); 0 on gas/water."""
    t1: int | None
    """Tariff-1 import (``1.8.1``) in the ``tariff`` profile, else None."""


@dataclass(frozen=True)
class MeterEvent:
    """The displayed registers were set to ``registers`` at ``at``."""

    at: float
    """Epoch seconds."""
    registers: Registers
    """Displayed values right at ``at``."""
    exchange: bool
    """True for a new meter (new ``meterSince``), False for a correction."""


class Counter:
    """Displayed registers of one meter at any time."""

    def __init__(
        self,
        model: MeterModel,
        tariff: TariffSplit | None,
        events: Sequence[MeterEvent],
        since: float,
    ) -> None:
        """Combine the model with ``events``; ``since`` is the first meterSince."""
        self.model = model
        self.tariff = tariff
        self._events = sorted(events, key=lambda event: event.at)
        self._since = since

    def raw(self, at: float) -> Registers:
        """Return the model's own readings at ``at`` (no exchange applied)."""
        imp, exp = self.model.reading(at)
        t1 = self.tariff.reading(at) if self.tariff is not None else None
        return Registers(imp, exp, t1)

    def _event(self, at: float) -> MeterEvent | None:
        """Return the last event at or before ``at``."""
        found = None
        for event in self._events:
            if event.at > at:
                break
            found = event
        return found

    def reading(self, at: float) -> Registers:
        """Return the displayed registers at ``at``."""
        now = self.raw(at)
        event = self._event(at)
        if event is None:
            return now
        then = self.raw(event.at)
        start = event.registers
        t1 = None
        if now.t1 is not None and then.t1 is not None:
            t1 = (start.t1 or 0) + now.t1 - then.t1
        return Registers(
            start.imp + now.imp - then.imp, start.exp + now.exp - then.exp, t1
        )

    def reading_at_slot(self, slot: int) -> Registers:
        """Return the displayed registers at the start of ``slot``."""
        return self.reading(slot * SLOT_SECONDS)

    def meter_since(self, at: float) -> int:
        """Return ``gw.meterSince`` at ``at``: last exchange or first reading."""
        since = self._since
        for event in self._events:
            if event.at > at:
                break
            if event.exchange:
                since = event.at
        return int(since)
