"""Check what a user types: the device address and API tokens.

Accepted: a host name, an IPv4 or IPv6 address, an optional port and an
``http://`` prefix; anything else that would reach into the URL (a path,
credentials, another scheme, white space) is refused with a form error.
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


def _numeric_host(host: str) -> str:
    # Zero-padded IPv4 (192.168.010.020) means the decimal address: left as a
    # name, the resolver would read it as octal and reach another host.
    parts = host.rstrip(".").split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) <= 3 for part in parts):
        raise WattwaechterInvalidInputError("host_invalid")
    try:
        return str(ipaddress.IPv4Address(".".join(str(int(part)) for part in parts)))
    except ValueError as err:
        raise WattwaechterInvalidInputError("host_invalid") from err


def parse_host(text: str) -> HostAddress:
    """Validate and split a user-typed host; raise WattwaechterInvalidInputError."""
    value = text.strip()
    if not value:
        raise WattwaechterInvalidInputError("host_empty")
    if any(char.isspace() for char in value):
        raise WattwaechterInvalidInputError("host_whitespace")
    if "%" in value or any(not char.isprintable() for char in value):
        # Percent escapes and IPv6 zone IDs have no place in a device address.
        raise WattwaechterInvalidInputError("host_invalid")
    try:
        return HostAddress(str(ipaddress.IPv6Address(value)))
    except ValueError:
        pass
    if "://" in value:
        if value.split("://", 1)[0].lower() != "http":
            raise WattwaechterInvalidInputError("host_scheme")
    else:
        value = f"http://{value}"
    try:
        url = URL(value)
        port = url.explicit_port
    except ValueError as err:
        raise WattwaechterInvalidInputError("host_invalid") from err
    if url.user is not None or url.password is not None or "@" in value:
        raise WattwaechterInvalidInputError("host_credentials")
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise WattwaechterInvalidInputError("host_path")
    host = url.raw_host  # an internationalised name in its ASCII form
    if not host or (port is not None and not 0 < port < 65536):
        raise WattwaechterInvalidInputError("host_invalid")
    if _DOTTED_NUMBERS.match(host):
        return HostAddress(_numeric_host(host), port)
    try:
        return HostAddress(str(ipaddress.ip_address(host)), port)
    except ValueError:
        pass
    if not _HOSTNAME.match(host):
        raise WattwaechterInvalidInputError("host_invalid")
    return HostAddress(host.rstrip(".").lower(), port)


def clean_token(text: str | None) -> str | None:
    """Return the trimmed token, None when empty; refuse what no header may carry.

    Any printable ASCII passes (today 16 letters and digits; firmware may change).
    """
    token = (text or "").strip()
    if not token:
        return None
    if any(not 0x21 <= ord(char) <= 0x7E for char in token):
        raise WattwaechterInvalidInputError("token_invalid")
    return token
