"""Reading the simulator's request log: what the integration cost the device."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from simulator import STATUS_DROPPED, STATUS_TIMEOUT, RequestLogEntry

LATEST = "/api/v1/history/latest"
ACTIONS = frozenset(
    {
        ("POST", "/api/v1/settings"),
        ("POST", "/api/v1/system/reboot"),
        ("POST", "/api/v1/ota/start"),
        ("POST", "/api/v1/auth/tokens/generate"),
        ("POST", "/api/v1/auth/tokens/confirm"),
    }
)
"""Requests only a user's action sends."""


def peak(log: Iterable[RequestLogEntry], window: float = 10.0) -> int:
    """Return the most requests in any ``window`` seconds, as the device counts."""
    times = sorted(r.time for r in log)
    best = start = 0
    for end, now in enumerate(times):
        while times[start] <= now - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def reached(log: Iterable[RequestLogEntry]) -> list[RequestLogEntry]:
    """Return the requests the device's API handled (its rate limit counts them).

    Requests it dropped unanswered (while it reboots, say) never reached the
    API; aiohttp also repeats a GET once when a kept-alive connection turns
    out closed, which a rebooting device causes.
    """
    return [r for r in log if r.status not in (STATUS_DROPPED, STATUS_TIMEOUT)]


def own_work(log: Iterable[RequestLogEntry]) -> list[RequestLogEntry]:
    """Return the requests no user asked for: polling, re-reads, the import."""
    return [r for r in log if (r.method, r.path) not in ACTIONS]


def endpoint(entry: RequestLogEntry) -> str:
    """Return ``METHOD /path`` without the ``/api/v1`` prefix."""
    return f"{entry.method} {entry.path.removeprefix('/api/v1')}"


@dataclass(frozen=True)
class Traffic:
    """A summary of one stretch of the request log."""

    requests: int
    meter_updates: int
    by_endpoint: dict[str, int]
    peak: int
    """Most requests the device handled in any 10 s (see ``reached``)."""
    attempts_peak: int
    """The same, counting also the attempts it dropped unanswered."""
    own_peak: int
    """Most requests of our own work (no action) the device handled in 10 s."""
    status_429: int
    status_503: int

    @property
    def per_meter_update(self) -> float:
        """Return requests per successful meter update."""
        return self.requests / self.meter_updates if self.meter_updates else 0.0


def summarize(log: Sequence[RequestLogEntry], window: float = 10.0) -> Traffic:
    """Summarize a stretch of the request log."""
    statuses = Counter(r.status for r in log)
    return Traffic(
        requests=len(log),
        meter_updates=sum(1 for r in log if r.path == LATEST and r.status == 200),
        by_endpoint=dict(Counter(endpoint(r) for r in log).most_common()),
        peak=peak(reached(log), window),
        attempts_peak=peak(log, window),
        own_peak=peak(own_work(reached(log)), window),
        status_429=statuses[429],
        status_503=statuses[503],
    )
