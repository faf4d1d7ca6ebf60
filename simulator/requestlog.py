"""The request log: one entry per API request the simulator saw."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

STATUS_DROPPED = 0
"""Status logged for a connection closed or reset without a response."""
STATUS_TIMEOUT = -1
"""Status logged for a request that hung under the ``timeout`` fault."""


@dataclass(frozen=True)
class RequestLogEntry:
    """One API request as seen by the simulated device."""

    time: float
    """Simulator clock (epoch seconds) when the request arrived."""
    method: str
    """HTTP method, e.g. ``GET``."""
    path: str
    """Request path, e.g. ``/api/v1/history/latest``."""
    query: str
    """Raw query string without the ``?`` (empty when there is none)."""
    status: int
    """HTTP status; 0 = connection dropped or reset, -1 = hung (timeout)."""
    token_level: str
    """``none``, ``invalid``, ``read`` or ``write``: the token that was sent."""

    def as_json(self) -> dict[str, Any]:
        """Return the entry as a JSON-serialisable dict."""
        return asdict(self)
