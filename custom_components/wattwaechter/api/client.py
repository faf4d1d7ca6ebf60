"""Async client of the WattWächter local REST API (``/api/v1``).

One method per endpoint. Every HTTP outcome other than success becomes a typed
error from ``errors.py``; the client never sleeps or retries by itself, so a
caller (an entity action, the coordinator) decides what waiting is acceptable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import date
from email.utils import parsedate_to_datetime
from enum import Enum
import json
import logging
import time
from typing import Any

import aiohttp
from yarl import URL

from .budget import Priority, RequestGate
from .errors import (
    WattwaechterAuthError,
    WattwaechterBadResponseError,
    WattwaechterBusyError,
    WattwaechterConnectionError,
    WattwaechterForbiddenError,
    WattwaechterNoDataError,
    WattwaechterRateLimitedError,
    WattwaechterTimeoutError,
)
from .host import HostAddress, parse_host
from .models import (
    Alive,
    HighResHistory,
    LedStatus,
    LowResHistory,
    MeterReading,
    ModbusStatus,
    MqttStatus,
    OtaInfo,
    PendingTokens,
    Settings,
    SystemInfo,
    as_bool,
    as_object,
)
from .token import clean_token

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# A real /history/latest is a few kB and a highRes day about 20 kB; anything
# this large is a firmware fault and is refused rather than parsed.
MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_RETRY_AFTER_429 = 10.0
DEFAULT_RETRY_AFTER_503 = 5.0


class Access(Enum):
    """The token level an endpoint needs when device auth is on."""

    NONE = "none"
    READ = "read"
    WRITE = "write"


class WattwaechterClient:
    """Talks to one device over an injected aiohttp session."""

    def __init__(
        self,
        host: str,
        session: aiohttp.ClientSession,
        *,
        read_token: str | None = None,
        write_token: str | None = None,
        request_timeout: float | None = None,
        gate: RequestGate | None = None,
    ) -> None:
        """Validate the host and the tokens, and keep them.

        Raises WattwaechterInvalidHostError or WattwaechterInvalidTokenError.
        ``request_timeout`` defaults to ``DEFAULT_TIMEOUT`` (looked up here).
        """
        self._address: HostAddress = parse_host(host)
        self._session = session
        self._read_token = clean_token(read_token)
        self._write_token = clean_token(write_token)
        self._timeout = DEFAULT_TIMEOUT if request_timeout is None else request_timeout
        self.gate = gate

    @property
    def host(self) -> str:
        """Return the normalised ``host[:port]``."""
        return self._address.authority

    @property
    def base_url(self) -> URL:
        """Return the API base URL."""
        return self._address.base_url

    @property
    def can_write(self) -> bool:
        """Return True when a token for write actions is configured."""
        return self._write_token is not None

    def set_tokens(self, read_token: str | None, write_token: str | None) -> None:
        """Replace the tokens (after rotation); WattwaechterInvalidTokenError."""
        read, write = clean_token(read_token), clean_token(write_token)
        self._read_token, self._write_token = read, write

    def _token_for(self, access: Access) -> str | None:
        """Pick the least-privileged token that can do the job."""
        if access is Access.READ:
            return self._read_token or self._write_token
        if access is Access.WRITE:
            # Without a WRITE token we still send what we have; the device
            # then answers 403, which callers turn into "needs the write token".
            return self._write_token or self._read_token
        return None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        access: Access,
        priority: Priority,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request through the gate and return the parsed JSON body."""
        if self.gate is not None:
            await self.gate.acquire(priority)
        headers = {"Accept": "application/json"}
        if token := self._token_for(access):
            headers["Authorization"] = f"Bearer {token}"
        url = self.base_url.with_path(f"/api/v1{path}")
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.request(
                    method, url, params=params, json=body, headers=headers
                ) as response:
                    status = response.status
                    if status in (429, 503):
                        self._raise_retry_later(status, response.headers)
                    payload = await _read_body(response.content)
        except TimeoutError as err:
            raise WattwaechterTimeoutError(
                f"{method} {path}: no answer within {self._timeout:g} s"
            ) from err
        except aiohttp.ClientError as err:
            raise WattwaechterConnectionError(f"{method} {path}: {err}") from err
        return self._decode(method, path, status, payload)

    def _raise_retry_later(self, status: int, headers: Mapping[str, str]) -> None:
        """Raise the 429/503 error and tell the gate to hold traffic back."""
        default = DEFAULT_RETRY_AFTER_429 if status == 429 else DEFAULT_RETRY_AFTER_503
        retry_after = _parse_retry_after(headers.get("Retry-After"), default)
        if self.gate is not None:
            self.gate.pause(retry_after)
        if status == 429:
            raise WattwaechterRateLimitedError("device rate limit reached", retry_after)
        raise WattwaechterBusyError("device busy (low heap)", retry_after)

    @staticmethod
    def _decode(method: str, path: str, status: int, payload: bytes) -> Any:
        """Map a status and body to the JSON value or a typed error."""
        if status == 204:
            raise WattwaechterNoDataError(f"{path}: no data yet")
        if status == 401:
            raise WattwaechterAuthError(f"{path}: token missing or invalid")
        if status == 403:
            raise WattwaechterForbiddenError(f"{path}: needs the write token")
        if status not in (200, 202):
            raise WattwaechterBadResponseError(
                f"{method} {path}: unexpected HTTP {status}", status
            )
        if len(payload) > MAX_RESPONSE_BYTES:
            raise WattwaechterBadResponseError(f"{path}: response too large", status)
        try:
            return json.loads(payload)
        except (ValueError, UnicodeDecodeError) as err:
            raise WattwaechterBadResponseError(
                f"{path}: response is not JSON", status
            ) from err

    async def alive(self, priority: Priority = Priority.SYSTEM) -> Alive:
        """Return whether the device is up and its firmware (needs no token)."""
        data = await self._request(
            "GET", "/system/alive", access=Access.NONE, priority=priority
        )
        return Alive.from_json(data)

    async def system_info(self, priority: Priority = Priority.SYSTEM) -> SystemInfo:
        """Return the system info sections."""
        data = await self._request(
            "GET", "/system/info", access=Access.READ, priority=priority
        )
        return SystemInfo.from_json(data)

    async def led(self, priority: Priority = Priority.SYSTEM) -> LedStatus:
        """Return the status LED state."""
        data = await self._request(
            "GET", "/system/led", access=Access.READ, priority=priority
        )
        return LedStatus.from_json(data)

    async def latest(self, priority: Priority = Priority.METER) -> MeterReading:
        """Return the latest meter reading; raise WattwaechterNoDataError on 204."""
        data = await self._request(
            "GET", "/history/latest", access=Access.READ, priority=priority
        )
        return MeterReading.from_json(data)

    async def history_high_res(
        self, day: date, priority: Priority = Priority.BACKFILL
    ) -> HighResHistory:
        """Return the 15-minute slots of one local day (last 30 days)."""
        data = await self._request(
            "GET",
            "/history/highRes",
            access=Access.READ,
            priority=priority,
            params={"date": day.isoformat()},
        )
        return HighResHistory.from_json(data)

    async def history_low_res(
        self, start: date, days: int, priority: Priority = Priority.BACKFILL
    ) -> LowResHistory:
        """Return daily values for ``days`` days (1-31) from ``start``."""
        data = await self._request(
            "GET",
            "/history/lowRes",
            access=Access.READ,
            priority=priority,
            params={"start": start.isoformat(), "days": str(days)},
        )
        return LowResHistory.from_json(data)

    async def settings(self, priority: Priority = Priority.SYSTEM) -> Settings:
        """Return the device settings (passwords are never included)."""
        data = await self._request(
            "GET", "/settings", access=Access.READ, priority=priority
        )
        return Settings.from_json(data)

    async def update_settings(
        self, changes: Mapping[str, Any], priority: Priority = Priority.ACTION
    ) -> Mapping[str, Any]:
        """Apply a partial settings change; return what the device applied."""
        data = await self._request(
            "POST", "/settings", access=Access.WRITE, priority=priority, body=changes
        )
        answer = as_object(data)
        if as_bool(answer.get("success")) is False:
            raise WattwaechterBadResponseError("settings were not applied")
        return as_object(answer.get("applied"))

    async def reboot(self, priority: Priority = Priority.ACTION) -> None:
        """Reboot the device; it is unreachable for a few seconds afterwards."""
        await self._request(
            "POST", "/system/reboot", access=Access.WRITE, priority=priority
        )

    async def ota_check(self, priority: Priority = Priority.OTA) -> OtaInfo:
        """Return what firmware the vendor's update server offers."""
        data = await self._request(
            "GET", "/ota/check", access=Access.READ, priority=priority
        )
        return OtaInfo.from_json(data)

    async def ota_start(self, priority: Priority = Priority.ACTION) -> bool:
        """Start a firmware update; return whether the device accepted it."""
        data = await self._request(
            "POST", "/ota/start", access=Access.WRITE, priority=priority
        )
        return as_bool(as_object(data).get("ok")) is True

    async def generate_tokens(
        self, priority: Priority = Priority.ACTION
    ) -> PendingTokens:
        """Create pending tokens; they become active only after confirm_tokens."""
        data = await self._request(
            "POST", "/auth/tokens/generate", access=Access.WRITE, priority=priority
        )
        return PendingTokens.from_json(data)

    async def confirm_tokens(
        self, new_write_token: str, priority: Priority = Priority.ACTION
    ) -> None:
        """Activate pending tokens (authenticated with the current write token)."""
        data = await self._request(
            "POST",
            "/auth/tokens/confirm",
            access=Access.WRITE,
            priority=priority,
            body={"new_write_token": new_write_token},
        )
        if as_bool(as_object(data).get("success")) is not True:
            raise WattwaechterBadResponseError("tokens were not confirmed")

    async def mqtt_status(self, priority: Priority = Priority.SYSTEM) -> MqttStatus:
        """Return the MQTT client status."""
        data = await self._request(
            "GET", "/mqtt/status", access=Access.READ, priority=priority
        )
        return MqttStatus.from_json(data)

    async def modbus_status(self, priority: Priority = Priority.SYSTEM) -> ModbusStatus:
        """Return the Modbus TCP server status."""
        data = await self._request(
            "GET", "/modbus/status", access=Access.READ, priority=priority
        )
        return ModbusStatus.from_json(data)


async def _read_body(content: aiohttp.StreamReader) -> bytes:
    """Read the whole body, but no more than one byte past the size limit.

    ``StreamReader.read(n)`` returns what has arrived so far, so a body that
    comes in several TCP segments needs a loop.
    """
    body = bytearray()
    while len(body) <= MAX_RESPONSE_BYTES:
        chunk = await content.read(MAX_RESPONSE_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _parse_retry_after(value: str | None, default: float) -> float:
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
