"""Typed errors of the WattWächter client.

Every HTTP outcome other than success maps to exactly one of these, so callers
can tell "try later" (connection, timeout, rate limit, busy) from "fix the
credentials" (401) and "needs the write token" (403).
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


class WattwaechterRetryLaterError(WattwaechterError):
    """The device asked us to come back after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        """Keep the delay the device asked for."""
        super().__init__(message)
        self.retry_after = retry_after


class WattwaechterRateLimitedError(WattwaechterRetryLaterError):
    """HTTP 429: the device-wide limit of 25 requests per 10 s was hit."""


class WattwaechterBusyError(WattwaechterRetryLaterError):
    """HTTP 503: the device is low on heap."""


class WattwaechterBudgetError(WattwaechterRetryLaterError):
    """Our own request budget for the device had no slot in time; nothing was sent.

    ``retry_after`` is the budget's estimate of when a slot is free again.
    """


class WattwaechterBudgetPausedError(WattwaechterBudgetError):
    """The device asked for a pause (429/503) and the pause is still running."""


class WattwaechterNoDataError(WattwaechterError):
    """HTTP 204: the device has no meter reading yet."""


class WattwaechterBadResponseError(WattwaechterError):
    """The device answered with an unexpected status or an unreadable body."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status, when there was one."""
        super().__init__(message)
        self.status = status


class WattwaechterInvalidHostError(WattwaechterError, ValueError):
    """The host given by the user is not a plain host name, address or URL."""

    def __init__(self, reason: str) -> None:
        """Keep a machine-readable reason (used as a form error key)."""
        super().__init__(reason)
        self.reason = reason


class WattwaechterInvalidTokenError(WattwaechterError, ValueError):
    """A token given by the user cannot be a device token.

    Tokens travel in the ``Authorization`` header, so white space, control and
    non-ASCII characters are refused before anything is sent.
    """

    def __init__(self, reason: str = "token_invalid") -> None:
        """Keep a machine-readable reason (used as a form error key)."""
        super().__init__(reason)
        self.reason = reason
