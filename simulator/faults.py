"""Fault modes that can be switched on at run time."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class FaultMode(StrEnum):
    """Misbehaviours the simulator can inject into API responses."""

    TIMEOUT = "timeout"
    """Hang the request for ``timeout_seconds``, then drop the connection."""
    RESET = "reset"
    """Reset the TCP connection (RST) without a response."""
    MALFORMED_JSON = "malformed_json"
    """Answer 200 with a truncated JSON body."""
    HTTP_500 = "http_500"
    """Answer 500 Internal Server Error."""
    NO_DATA = "no_data"
    """Answer 204 on ``/history/latest``."""
    BUSY_503 = "busy_503"
    """Answer 503 with ``Retry-After: 5`` (heap guard storm)."""
    RATE_LIMIT_429 = "rate_limit_429"
    """Answer 429 with ``Retry-After: 10`` (rate-limit storm)."""
    STRING_VALUES = "string_values"
    """Send every numeric OBIS value of ``/history/latest`` as a string."""
    NAN = "nan"
    """Send power/voltage/current (and flow) values as the JSON token NaN."""
    COUNTER_ZERO = "counter_zero"
    """Energy/volume totals read 0."""
    COUNTER_BACKWARDS = "counter_backwards"
    """Energy/volume totals read 5 kWh (5 m³) less than the true value."""
    HUGE_PAYLOAD = "huge_payload"
    """``/history/latest`` carries about 2 MB of extra registers."""
    NEW_OBIS = "new_obis"
    """New registers (``1.8.3``, ``3.7.0``) appear in ``/history/latest``."""
    MISSING_FIELDS = "missing_fields"
    """Some registers drop out and one register lacks its ``value`` key."""
    OFFLINE = "offline"
    """Every API request gets its connection dropped without a response."""
    APPLY_THEN_DROP = "apply_then_drop"
    """The device handles the request (and applies a change), then drops the
    connection instead of answering: a response lost on the way back."""
    FROZEN_READING = "frozen_reading"
    """The reading head fell off: ``/history/latest`` keeps answering the last
    reading (same ``timestamp``, ``datetime`` and values) from the moment the
    fault was switched on."""


# Faults that change the transport or the status code, checked before the
# rate limit and authentication.
TRANSPORT_FAULTS: tuple[FaultMode, ...] = (
    FaultMode.OFFLINE,
    FaultMode.RESET,
    FaultMode.TIMEOUT,
    FaultMode.HTTP_500,
    FaultMode.BUSY_503,
    FaultMode.RATE_LIMIT_429,
    FaultMode.MALFORMED_JSON,
)


class FaultSet:
    """The active faults, each optionally restricted to some API paths.

    A fault set with a ``count`` hits only the next ``count`` matching
    requests (``take`` counts them down), then switches itself off.
    """

    def __init__(self) -> None:
        """Start with no active fault."""
        self._active: dict[FaultMode, frozenset[str] | None] = {}
        self._left: dict[FaultMode, int] = {}

    def set(
        self,
        mode: FaultMode | str,
        paths: Iterable[str] | None = None,
        count: int | None = None,
    ) -> None:
        """Activate ``mode`` for ``paths`` (None = every API path).

        ``count`` limits it to the next ``count`` matching requests.
        """
        fault = FaultMode(mode)
        if isinstance(paths, str):
            paths = [paths]
        if count is not None and (isinstance(count, bool) or count < 1):
            msg = "count must be a positive integer"
            raise ValueError(msg)
        self._active[fault] = (
            None if paths is None else frozenset(normalize_path(p) for p in paths)
        )
        self._left.pop(fault, None)
        if count is not None:
            self._left[fault] = count

    def clear(self, mode: FaultMode | str) -> None:
        """Deactivate ``mode`` (no error when it was not active)."""
        self._active.pop(FaultMode(mode), None)
        self._left.pop(FaultMode(mode), None)

    def clear_all(self) -> None:
        """Deactivate every fault."""
        self._active.clear()
        self._left.clear()

    def active(self, mode: FaultMode, path: str) -> bool:
        """Return True when ``mode`` applies to the API ``path``."""
        if mode not in self._active:
            return False
        paths = self._active[mode]
        return paths is None or path in paths

    def take(self, mode: FaultMode, path: str) -> bool:
        """Return ``active(mode, path)``; a counted fault uses up one hit."""
        if not self.active(mode, path):
            return False
        if mode in self._left:
            self._left[mode] -= 1
            if self._left[mode] <= 0:
                self.clear(mode)
        return True

    def remaining(self) -> dict[str, int]:
        """Return ``{mode: hits left}`` of the counted faults."""
        return {str(mode): left for mode, left in self._left.items()}

    def as_json(self) -> dict[str, list[str] | None]:
        """Return ``{mode: sorted paths or None}`` for the control endpoint."""
        return {
            str(mode): None if paths is None else sorted(paths)
            for mode, paths in self._active.items()
        }

    def __contains__(self, mode: object) -> bool:
        """Return True when ``mode`` is active for at least one path."""
        return mode in self._active


def normalize_path(path: str) -> str:
    """Return an API path in ``/api/v1/...`` form.

    ``"history/latest"``, ``"/history/latest"`` and ``"/api/v1/history/latest"``
    all name the same path; a query string is ignored.
    """
    path = path.split("?", 1)[0].strip()
    if not path.startswith("/"):
        path = "/" + path
    if not path.startswith("/api/v1/"):
        path = "/api/v1" + path
    return path.rstrip("/") or "/"
