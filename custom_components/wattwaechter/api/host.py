"""Parse what a user types as the device address.

Accepted: ``192.168.1.5``, ``wattwaechter-aabbccddeeff.local``, ``host:8080``,
``[fe80::1]:8080``, ``fe80::1`` and ``http://host[:port][/]``. Anything that
would smuggle a path, credentials, another scheme or white space into the URL
is rejected with a reason that the config flow shows as a form error.
"""

from __future__ import annotations

from dataclasses import dataclass
import ipaddress
import re

from yarl import URL

from .errors import WattwaechterInvalidHostError

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?)+$"
)


@dataclass(frozen=True, slots=True)
class HostAddress:
    """A validated host with an optional port."""

    host: str
    port: int | None = None

    @property
    def authority(self) -> str:
        """Return ``host[:port]``, with brackets around IPv6 addresses."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def base_url(self) -> URL:
        """Return the device's API base URL."""
        return URL.build(scheme="http", host=self.host, port=self.port, path="/api/v1")


def parse_host(text: str) -> HostAddress:
    """Validate and split a user-typed host; raise WattwaechterInvalidHostError."""
    value = text.strip()
    if not value:
        raise WattwaechterInvalidHostError("host_empty")
    if any(char.isspace() for char in value):
        raise WattwaechterInvalidHostError("host_whitespace")
    if "%" in value or any(not char.isprintable() for char in value):
        # Percent escapes and IPv6 zone IDs ("fe80::1%eth0") have no place in
        # a device address; control characters never.
        raise WattwaechterInvalidHostError("host_invalid")
    try:
        # A bare IPv6 address has colons but no brackets and no scheme.
        return HostAddress(str(ipaddress.IPv6Address(value)))
    except ValueError:
        pass
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme != "http":
            raise WattwaechterInvalidHostError("host_scheme")
    else:
        value = f"http://{value}"
    try:
        url = URL(value)
        port = url.explicit_port
    except ValueError as err:
        raise WattwaechterInvalidHostError("host_invalid") from err
    if url.user is not None or url.password is not None or "@" in value:
        raise WattwaechterInvalidHostError("host_credentials")
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise WattwaechterInvalidHostError("host_path")
    # raw_host: an internationalised name in its ASCII (punycode) form.
    host = url.raw_host
    if not host:
        raise WattwaechterInvalidHostError("host_invalid")
    if port is not None and not 0 < port < 65536:
        raise WattwaechterInvalidHostError("host_invalid")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.match(host):
            raise WattwaechterInvalidHostError("host_invalid") from None
        return HostAddress(host.rstrip(".").lower(), port)
    return HostAddress(str(address), port)
