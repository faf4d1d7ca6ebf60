"""Check what a user types as an API token.

The device's tokens are 16 upper-case letters and digits. Anything printable
in ASCII is let through (firmware may change the format), but a token with
white space inside, control characters or non-ASCII characters is refused:
it would break or smuggle content into the ``Authorization`` header.
"""

from __future__ import annotations

from .errors import WattwaechterInvalidTokenError

_FIRST, _LAST = 0x21, 0x7E  # printable ASCII without the space


def clean_token(text: str | None) -> str | None:
    """Return the trimmed token, None when empty; raise when it cannot be one."""
    token = (text or "").strip()
    if not token:
        return None
    if any(not _FIRST <= ord(char) <= _LAST for char in token):
        raise WattwaechterInvalidTokenError
    return token
