"""Check what a user types: the device address and API tokens.

Accepted: ``192.168.1.5``, ``wattwaechter-aabbccddeeff.local``, ``host:8080``,
``[fe80::1]:8080``, ``fe80::1`` and ``http://host[:port][/]``. Anything that
would put a path, credentials, another scheme or white space into the URL is
refused with a reason the config flow shows as a form error. A zero-padded
IPv4 address (``192.168.010.020``) means the decimal address: left as a name,
the resolver would read it as octal and reach another host.
"""

from __future__ import annotations

from dataclasses import dataclass
import ipaddress
import re

from yarl import URL

from .errors import WattwaechterInvalidInputError

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?)+$"
)
_DOTTED_NUMBERS = re.compile(r"^[0-9.]+$")


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
    def is_ip(self) -> bool:
        """Return True for an IP address, False for a host name."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def base_url(self) -> URL:
        """Return the device's API base URL."""
        return URL.build(scheme="http", host=self.host, port=self.port, path="/api/v1")


def _invalid(reason: str) -> WattwaechterInvalidInputError:
    return WattwaechterInvalidInputError(reason)


def _numeric_host(host: str) -> str:
    """Return a dotted-decimal IPv4 for an all-numeric host, or refuse it."""
    parts = host.rstrip(".").split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) <= 3 for part in parts):
        raise _invalid("host_invalid")
    try:
        return str(ipaddress.IPv4Address(".".join(str(int(part)) for part in parts)))
    except ValueError as err:
        raise _invalid("host_invalid") from err


def parse_host(text: str) -> HostAddress:
    """Validate and split a user-typed host; raise WattwaechterInvalidInputError."""
    value = text.strip()
    if not value:
        raise _invalid("host_empty")
    if any(char.isspace() for char in value):
        raise _invalid("host_whitespace")
    if "%" in value or any(not char.isprintable() for char in value):
        # Percent escapes and IPv6 zone IDs have no place in a device address.
        raise _invalid("host_invalid")
    try:
        return HostAddress(str(ipaddress.IPv6Address(value)))
    except ValueError:
        pass
    if "://" in value:
        if value.split("://", 1)[0].lower() != "http":
            raise _invalid("host_scheme")
    else:
        value = f"http://{value}"
    try:
        url = URL(value)
        port = url.explicit_port
    except ValueError as err:
        raise _invalid("host_invalid") from err
    if url.user is not None or url.password is not None or "@" in value:
        raise _invalid("host_credentials")
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise _invalid("host_path")
    host = url.raw_host  # an internationalised name in its ASCII form
    if not host or (port is not None and not 0 < port < 65536):
        raise _invalid("host_invalid")
    if _DOTTED_NUMBERS.match(host):
        return HostAddress(_numeric_host(host), port)
    try:
        return HostAddress(str(ipaddress.ip_address(host)), port)
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise _invalid("host_invalid")
    return HostAddress(host.rstrip(".").lower(), port)


def clean_token(text: str | None) -> str | None:
    """Return the trimmed token, None when empty; refuse what no header may carry.

    Tokens are 16 upper-case letters and digits; anything printable in ASCII
    passes (firmware may change the format), white space and others do not.
    """
    token = (text or "").strip()
    if not token:
        return None
    if any(not 0x21 <= ord(char) <= 0x7E for char in token):
        raise _invalid("token_invalid")
    return token
