"""Typed errors of the WattWächter client, one per outcome other than success.

Callers tell "try later" (connection, timeout, 429, 503, budget) from "fix the
token" (401), "needs the write token" (403) and "not in this firmware" (404).
"""

from __future__ import annotations


class WattwaechterError(Exception):
    """Base class of every error the client raises."""


class WattwaechterConnectionError(WattwaechterError):
    """The device could not be reached or dropped the connection."""


class WattwaechterTimeoutError(WattwaechterConnectionError):
    """The device did not answer within the request timeout."""


class WattwaechterAuthError(WattwaechterError):
    """HTTP 401: the token is missing or wrong."""


class WattwaechterForbiddenError(WattwaechterError):
    """HTTP 403: a READ token was used where the WRITE token is needed."""


class WattwaechterNotSupportedError(WattwaechterError):
    """HTTP 404: the device's firmware has no such endpoint."""


class WattwaechterNoDataError(WattwaechterError):
    """HTTP 204: the device has no meter reading."""


class WattwaechterBadResponseError(WattwaechterError):
    """An unexpected status or an unreadable body."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status, when there was one."""
        super().__init__(message)
        self.status = status


class WattwaechterRetryLaterError(WattwaechterError):
    """Come back after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        """Keep the delay."""
        super().__init__(message)
        self.retry_after = retry_after


class WattwaechterRateLimitedError(WattwaechterRetryLaterError):
    """HTTP 429: the device-wide limit of 25 requests per 10 s was hit."""


class WattwaechterBusyError(WattwaechterRetryLaterError):
    """HTTP 503: the device is low on heap."""


class WattwaechterBudgetError(WattwaechterRetryLaterError):
    """Our own request budget had no slot in time; nothing was sent."""


class WattwaechterInvalidInputError(WattwaechterError, ValueError):
    """A host or token typed by the user cannot be used; ``reason`` is a form error."""

    def __init__(self, reason: str) -> None:
        """Keep the machine-readable reason."""
        super().__init__(reason)
        self.reason = reason
