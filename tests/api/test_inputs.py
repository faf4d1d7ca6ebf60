"""What a user types: device addresses and API tokens."""

from __future__ import annotations

import aiohttp
import pytest

from custom_components.wattwaechter.api.client import WattwaechterClient
from custom_components.wattwaechter.api.errors import WattwaechterInvalidInputError
from custom_components.wattwaechter.api.inputs import clean_token, parse_host


@pytest.mark.parametrize(
    ("text", "authority", "base_url"),
    [
        ("192.168.1.5", "192.168.1.5", "http://192.168.1.5/api/v1"),
        (" 192.168.1.5 ", "192.168.1.5", "http://192.168.1.5/api/v1"),
        (
            "wattwaechter-aabbccddeeff.local",
            "wattwaechter-aabbccddeeff.local",
            "http://wattwaechter-aabbccddeeff.local/api/v1",
        ),
        (
            "WattWaechter-AABBCCDDEEFF.local.",
            "wattwaechter-aabbccddeeff.local",
            "http://wattwaechter-aabbccddeeff.local/api/v1",
        ),
        ("meter:8080", "meter:8080", "http://meter:8080/api/v1"),
        ("http://meter", "meter", "http://meter/api/v1"),
        ("HTTP://meter:8080/", "meter:8080", "http://meter:8080/api/v1"),
        ("[fe80::1]:8080", "[fe80::1]:8080", "http://[fe80::1]:8080/api/v1"),
        ("fe80::1", "[fe80::1]", "http://[fe80::1]/api/v1"),
        ("FE80:0:0::1", "[fe80::1]", "http://[fe80::1]/api/v1"),
        ("http://[::1]:8080", "[::1]:8080", "http://[::1]:8080/api/v1"),
        # An internationalised name goes into the URL in its ASCII form.
        (
            "wattwächter.local",
            "xn--wattwchter-u5a.local",
            "http://xn--wattwchter-u5a.local/api/v1",
        ),
    ],
)
def test_parse_host(text: str, authority: str, base_url: str) -> None:
    address = parse_host(text)
    assert address.authority == authority
    assert str(address.base_url) == base_url


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("192.168.010.020", "192.168.10.20"),
        ("010.000.000.001", "10.0.0.1"),
        ("http://192.168.001.005:8080", "192.168.1.5"),
        ("192.168.1.5.", "192.168.1.5"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_zero_padded_ipv4_means_the_decimal_address(text: str, host: str) -> None:
    """A resolver would read 010 as octal (8): the user meant ten."""
    address = parse_host(text)
    assert address.host == host
    assert address.is_ip


@pytest.mark.parametrize(
    "text",
    [
        "192.168.1",
        "192.168.1.256",
        "1.2.3.4.5",
        "192.168.1.0005",
        "1..2.3",
        "127.1",
        "2130706433",
    ],
)
def test_numbers_that_are_no_ipv4_address(text: str) -> None:
    """All digits and dots but no address: refused, never sent to a resolver."""
    with pytest.raises(WattwaechterInvalidInputError) as err:
        parse_host(text)
    assert err.value.reason == "host_invalid"


def test_names_and_ports() -> None:
    name = parse_host("meter.local:80")
    assert (name.host, name.port, name.is_ip) == ("meter.local", 80, False)
    assert parse_host("10.0.0.1").port is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "host_empty"),
        ("   ", "host_empty"),
        ("my meter", "host_whitespace"),
        ("meter\t1", "host_whitespace"),
        ("https://meter", "host_scheme"),
        ("ftp://meter", "host_scheme"),
        ("http://user:pass@meter", "host_credentials"),
        ("user@meter", "host_credentials"),
        ("meter/api/v1", "host_path"),
        ("http://meter/api", "host_path"),
        ("meter?x=1", "host_path"),
        ("meter#top", "host_path"),
        ("bad_host!", "host_invalid"),
        ("-meter.local", "host_invalid"),
        ("meter:99999", "host_invalid"),
        ("meter:0", "host_invalid"),
        ("meter:abc", "host_invalid"),
        ("http://", "host_invalid"),
        ("[fe80::1", "host_invalid"),
        ("a" * 300, "host_invalid"),
        ("meter\r\nHost: evil", "host_whitespace"),
        ("meter\x00.local", "host_invalid"),
        ("meter%2Fapi", "host_invalid"),
        ("fe80::1%eth0", "host_invalid"),
        ("[fe80::1%25eth0]:80", "host_invalid"),
        ("http://meter:80@evil", "host_credentials"),
        ("//meter", "host_path"),
        ("meter\\api", "host_invalid"),
    ],
)
def test_parse_host_rejects(text: str, reason: str) -> None:
    with pytest.raises(WattwaechterInvalidInputError) as err:
        parse_host(text)
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("READTOKEN1234567", "READTOKEN1234567"),
        ("  READTOKEN1234567\n", "READTOKEN1234567"),
        ("", None),
        ("   ", None),
        (None, None),
        ("a-b_c.d~e!", "a-b_c.d~e!"),
    ],
)
def test_clean_token(text: str | None, token: str | None) -> None:
    assert clean_token(text) == token


@pytest.mark.parametrize(
    "text",
    ["READ TOKEN", "READ\tTOKEN", "READ\r\nX-Evil: 1", "READ\x00", "TÖKEN", "A\x7f"],
)
def test_clean_token_rejects(text: str) -> None:
    """Nothing that could break or inject a header is accepted."""
    with pytest.raises(WattwaechterInvalidInputError) as err:
        clean_token(text)
    assert err.value.reason == "token_invalid"


async def test_client_checks_host_and_tokens() -> None:
    """No typed host or token reaches a request unchecked, also when set later."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(WattwaechterInvalidInputError) as err:
            WattwaechterClient("https://meter", session)
        assert err.value.reason == "host_scheme"
        with pytest.raises(WattwaechterInvalidInputError):
            WattwaechterClient("meter", session, read_token="A\r\nB")
        with pytest.raises(WattwaechterInvalidInputError):
            WattwaechterClient("meter", session, write_token="A B")
        client = WattwaechterClient("http://Meter.local:8080/", session)
        assert client.host == "meter.local:8080"
        assert str(client.address.base_url) == "http://meter.local:8080/api/v1"
        with pytest.raises(WattwaechterInvalidInputError):
            client.set_tokens("READ", "WRITE\n2")
        client.set_tokens(" NEWREAD ", "")
        assert client.can_write is False
        client.set_tokens(None, " NEWWRITE ")
        assert client.can_write is True
