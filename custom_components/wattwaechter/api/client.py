"""Async client of the WattWächter local REST API (``/api/v1``).

One method per endpoint, each with the budget priority its caller gives. Every
outcome but success is a typed error; the client never sleeps or retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from email.utils import parsedate_to_datetime
import json
import time
from typing import Any, Literal

import aiohttp

from .budget import Priority, RequestBudget
from .errors import (
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterBusyError,
    WattwaechterConnectionError,
    WattwaechterForbiddenError,
    WattwaechterNoDataError,
    WattwaechterNotSupportedError,
    WattwaechterRateLimitedError,
    WattwaechterTimeoutError,
)
from .history_items import HighResItem, LowResItem, high_res_items, low_res_items
from .inputs import HostAddress, clean_token, parse_host
from .models import (
    LedStatus,
    MeterReading,
    OtaInfo,
    PendingTokens,
    Settings,
    SystemInfo,
    as_bool,
    as_object,
)

TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 1024 * 1024
"""A real answer is a few kB (a highRes day about 20 kB); larger is a fault."""
DEFAULT_RETRY_AFTER = {429: 10.0, 503: 5.0}

Access = Literal["none", "read", "write"]


class WattwaechterClient:
    """Talks to one device over an injected aiohttp session, through a budget."""

    def __init__(
        self,
        host: str,
        session: aiohttp.ClientSession,
        *,
        read_token: str | None = None,
        write_token: str | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        """Check the host and the tokens; raise WattwaechterInvalidInputError."""
        self.address: HostAddress = parse_host(host)
        self._session = session
        self._read_token = clean_token(read_token)
        self._write_token = clean_token(write_token)
        self.budget = budget or RequestBudget()

    @property
    def host(self) -> str:
        """Return the normalised ``host[:port]``."""
        return self.address.authority

    @property
    def can_write(self) -> bool:
        """Return True when a token for write actions is configured."""
        return self._write_token is not None

    def set_tokens(self, read_token: str | None, write_token: str | None) -> None:
        """Replace the tokens (after a rotation)."""
        self._read_token = clean_token(read_token)
        self._write_token = clean_token(write_token)

    def _token(self, access: Access) -> str | None:
        # The least-privileged token that can do the job. Without a WRITE
        # token a write sends the READ token: the 403 says "needs the write token".
        if access == "read":
            return self._read_token or self._write_token
        if access == "write":
            return self._write_token or self._read_token
        return None

    async def _request(
        self,
        method: str,
        path: str,
        priority: Priority,
        access: Access = "read",
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request through the budget; return the parsed JSON body.

        A 401 to tokens replaced meanwhile (a rotation) is sent again with the
        new ones: that is no reason for a reauth.
        """
        token = self._token(access)
        try:
            return await self._send(method, path, priority, token, params, body)
        except WattwaechterAuthError:
            if (current := self._token(access)) == token:
                raise
            return await self._send(method, path, priority, current, params, body)

    async def _send(
        self,
        method: str,
        path: str,
        priority: Priority,
        token: str | None,
        *request: Mapping[str, Any] | None,
    ) -> Any:
        params, body = request
        await self.budget.acquire(priority)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.address.base_url.with_path(f"/api/v1{path}")
        try:
            async with (
                asyncio.timeout(TIMEOUT),
                self._session.request(
                    method, url, params=params, json=body, headers=headers
                ) as response,
            ):
                status = response.status
                if status in DEFAULT_RETRY_AFTER:
                    self._retry_later(status, response.headers, priority)
                payload = await _read_body(response.content)
        except TimeoutError as err:
            raise WattwaechterTimeoutError(f"{method} {path}: no answer") from err
        except aiohttp.ClientError as err:
            raise WattwaechterConnectionError(f"{method} {path}: {err}") from err
        return _decode(method, path, status, payload)

    def _retry_later(
        self, status: int, headers: Mapping[str, str], priority: Priority
    ) -> None:
        retry_after = _retry_after(
            headers.get("Retry-After"), DEFAULT_RETRY_AFTER[status]
        )
        self.budget.pause(retry_after, priority, full=status == 429)
        if status == 429:
            raise WattwaechterRateLimitedError("device rate limit reached", retry_after)
        raise WattwaechterBusyError("device busy (low memory)", retry_after)

    async def system_info(self, priority: Priority) -> SystemInfo:
        """Return the system info sections."""
        return SystemInfo.from_json(
            await self._request("GET", "/system/info", priority)
        )

    async def led(self, priority: Priority) -> LedStatus:
        """Return what the status LED signals."""
        return LedStatus.from_json(await self._request("GET", "/system/led", priority))

    async def latest(self, priority: Priority) -> MeterReading:
        """Return the latest meter reading; WattwaechterNoDataError on 204."""
        return MeterReading.from_json(
            await self._request("GET", "/history/latest", priority)
        )

    async def high_res(self, day: date, priority: Priority) -> tuple[HighResItem, ...]:
        """Return the 15-minute slots of a local day (none: 204, or 400 before 1.3)."""
        params = {"date": day.isoformat()}
        return high_res_items(await self._history("/history/highRes", params, priority))

    async def low_res(
        self, start: date, days: int, priority: Priority
    ) -> tuple[LowResItem, ...]:
        """Return daily values for ``days`` days (1-31) from ``start``."""
        params = {"start": start.isoformat(), "days": str(days)}
        return low_res_items(await self._history("/history/lowRes", params, priority))

    async def _history(
        self, path: str, params: Mapping[str, str], priority: Priority
    ) -> Any:
        try:
            return await self._request("GET", path, priority, params=params)
        except WattwaechterNoDataError:
            return None
        except WattwaechterBadResponseError as err:
            if err.status == 400:
                return None
            raise

    async def settings(self, priority: Priority) -> Settings:
        """Return the device settings (passwords are never included)."""
        return Settings.from_json(await self._request("GET", "/settings", priority))

    async def update_settings(
        self, changes: Mapping[str, Any], priority: Priority
    ) -> Mapping[str, Any]:
        """Apply a partial settings change; return what the device applied."""
        answer = as_object(
            await self._request("POST", "/settings", priority, "write", body=changes)
        )
        if as_bool(answer.get("success")) is False:
            raise WattwaechterBadResponseError("settings were not applied")
        return as_object(answer.get("applied"))

    async def reboot(self, priority: Priority) -> None:
        """Reboot the device; it is away for a few seconds afterwards."""
        await self._request("POST", "/system/reboot", priority, "write")

    async def ota_check(self, priority: Priority) -> OtaInfo:
        """Return what firmware the vendor's update server offers."""
        return OtaInfo.from_json(await self._request("GET", "/ota/check", priority))

    async def ota_start(self, priority: Priority) -> bool:
        """Start a firmware update; return whether the device started one.

        Firmware 1.3 answers ``ok`` and ``update_available: false`` to nothing new.
        """
        answer = as_object(await self._request("POST", "/ota/start", priority, "write"))
        offered = as_bool(answer.get("update_available")) is not False
        return as_bool(answer.get("ok")) is True and offered

    async def generate_tokens(self, priority: Priority) -> PendingTokens:
        """Create pending tokens; they become active only after confirm_tokens."""
        return PendingTokens.from_json(
            await self._request("POST", "/auth/tokens/generate", priority, "write")
        )

    async def confirm_tokens(self, new_write_token: str, priority: Priority) -> None:
        """Activate pending tokens (authenticated with the current write token)."""
        body = {"new_write_token": new_write_token}
        answer = await self._request(
            "POST", "/auth/tokens/confirm", priority, "write", body=body
        )
        if as_bool(as_object(answer).get("success")) is not True:
            raise WattwaechterBadResponseError("tokens were not confirmed")


def _decode(method: str, path: str, status: int, payload: bytes) -> Any:
    """Map a status and body to the JSON value or a typed error."""
    if status == 204:
        raise WattwaechterNoDataError(f"{path}: no data")
    if status == 401:
        raise WattwaechterAuthError(f"{path}: token missing or invalid")
    if status == 403:
        raise WattwaechterForbiddenError(f"{path}: needs the write token")
    if status == 404:
        raise WattwaechterNotSupportedError(f"{path}: not in this firmware")
    if status not in (200, 202):
        raise WattwaechterBadResponseError(f"{method} {path}: HTTP {status}", status)
    if len(payload) > MAX_RESPONSE_BYTES:
        raise WattwaechterBadResponseError(f"{path}: response too large", status)
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as err:
        raise WattwaechterBadResponseError(f"{path}: not JSON", status) from err


async def _read_body(content: aiohttp.StreamReader) -> bytes:
    """Read the body, but no more than one byte past the size limit."""
    body = bytearray()
    while len(body) <= MAX_RESPONSE_BYTES:
        chunk = await content.read(MAX_RESPONSE_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _retry_after(value: str | None, default: float) -> float:
    """Read Retry-After as seconds or an HTTP date; fall back to ``default``."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default
