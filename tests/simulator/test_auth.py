"""READ/WRITE token authentication and two-phase token rotation."""

from __future__ import annotations

import re

import aiohttp
import pytest

from simulator import Simulator

from .conftest import API, READ, WRITE, Clock, SimFactory, get_json, post_json

READ_PATHS = (
    "/system/info",
    "/system/led",
    "/system/timezones",
    "/history/latest",
    "/settings",
    "/ota/check",
    "/mqtt/status",
    "/modbus/status",
)


@pytest.fixture
async def secured(make_sim: SimFactory) -> Simulator:
    """A simulator with ``api_auth_required`` on."""
    return await make_sim(auth_required=True)


async def test_auth_off_needs_no_token(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    for path in READ_PATHS:
        await get_json(session, sim, path)
    await post_json(session, sim, "/settings", {"ledEnable": False})
    levels = [entry.token_level for entry in sim.request_log]
    assert set(levels) == {"none"}
    await get_json(session, sim, "/system/alive", token="WRONG")
    await get_json(session, sim, "/system/alive", token=READ)
    assert [e.token_level for e in sim.request_log[-2:]] == ["invalid", "read"]


async def test_alive_and_wifi_scan_never_need_a_token(
    secured: Simulator, session: aiohttp.ClientSession
) -> None:
    await get_json(session, secured, "/system/alive")
    await get_json(session, secured, "/system/wifi_scan")


async def test_missing_or_invalid_token_is_401(
    secured: Simulator, session: aiohttp.ClientSession
) -> None:
    for path in READ_PATHS:
        body = await get_json(session, secured, path, status=401)
        assert body == {"error": "Invalid or missing API token"}
        await get_json(session, secured, path, status=401, token="NOTATOKEN")
    await post_json(session, secured, "/system/reboot", status=401)
    await post_json(session, secured, "/system/reboot", status=401, token="NOPE")
    for header in ("Basic abc", f"Token {READ}", "Bearer"):
        async with session.get(
            f"{secured.url}{API}/system/info", headers={"Authorization": header}
        ) as resp:
            assert resp.status == 401
    assert {e.token_level for e in secured.request_log} == {"none", "invalid"}


async def test_read_token_reads_but_cannot_write(
    secured: Simulator, session: aiohttp.ClientSession
) -> None:
    for path in READ_PATHS:
        await get_json(session, secured, path, token=READ)
    forbidden = {"error": "Forbidden"}
    for path, body in (
        ("/system/reboot", None),
        ("/settings", {"ledEnable": False}),
        ("/auth/tokens/generate", None),
        ("/auth/tokens/confirm", {"new_write_token": "X"}),
        ("/ota/start", None),
        ("/system/selftest", None),
    ):
        answer = await post_json(session, secured, path, body, status=403, token=READ)
        assert answer == forbidden
    assert secured.state.settings["ledEnable"] is True
    assert secured.state.offline_until is None


async def test_write_token_works_everywhere(
    secured: Simulator, session: aiohttp.ClientSession
) -> None:
    for path in READ_PATHS:
        await get_json(session, secured, path, token=WRITE)
    answer = await post_json(
        session, secured, "/settings", {"ledEnable": False}, token=WRITE
    )
    assert answer == {"success": True, "applied": {"ledEnable": False}}
    assert {e.token_level for e in secured.request_log} == {"write"}


async def test_enabling_auth_through_settings(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    await post_json(session, sim, "/settings", {"api_auth_required": True})
    await get_json(session, sim, "/system/info", status=401)
    await get_json(session, sim, "/system/info", token=READ)
    sim.configure(auth_required=False)
    await get_json(session, sim, "/system/info")


async def test_token_rotation(
    secured: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    generated = await post_json(session, secured, "/auth/tokens/generate", token=WRITE)
    assert generated["success"] is True
    assert generated["expires_in"] == 60
    pending = generated["pending"]
    assert set(pending) == {"token_read", "token_write"}
    for token in pending.values():
        assert re.fullmatch(r"[A-Z0-9]{16}", token)
    # Pending tokens are not valid yet; the old ones still are.
    await get_json(
        session, secured, "/system/info", status=401, token=pending["token_read"]
    )
    clock.advance(30)
    confirmed = await post_json(
        session,
        secured,
        "/auth/tokens/confirm",
        {"new_write_token": pending["token_write"]},
        token=WRITE,
    )
    assert confirmed == {"success": True, "message": "Tokens activated successfully."}
    await get_json(session, secured, "/system/info", status=401, token=READ)
    await get_json(session, secured, "/system/info", status=401, token=WRITE)
    await get_json(session, secured, "/system/info", token=pending["token_read"])
    await post_json(session, secured, "/system/selftest", token=pending["token_write"])
    assert secured.state.read_token == pending["token_read"]
    assert secured.state.write_token == pending["token_write"]


async def test_token_confirm_with_wrong_token_keeps_old_tokens(
    secured: Simulator, session: aiohttp.ClientSession
) -> None:
    generated = await post_json(session, secured, "/auth/tokens/generate", token=WRITE)
    answer = await post_json(
        session,
        secured,
        "/auth/tokens/confirm",
        {"new_write_token": "WRONGWRONGWRONG1"},
        status=400,
        token=WRITE,
    )
    assert answer["success"] is False
    assert answer["error"]
    await get_json(session, secured, "/system/info", token=READ)
    # The pending tokens survive a wrong attempt until they expire.
    await post_json(
        session,
        secured,
        "/auth/tokens/confirm",
        {"new_write_token": generated["pending"]["token_write"]},
        token=WRITE,
    )


async def test_token_confirm_after_expiry_fails(
    secured: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    generated = await post_json(session, secured, "/auth/tokens/generate", token=WRITE)
    clock.advance(61)
    answer = await post_json(
        session,
        secured,
        "/auth/tokens/confirm",
        {"new_write_token": generated["pending"]["token_write"]},
        status=400,
        token=WRITE,
    )
    assert answer["success"] is False
    await get_json(session, secured, "/system/info", token=READ)
    assert secured.state.pending_tokens is None


async def test_confirm_needs_the_current_write_token(
    secured: Simulator, session: aiohttp.ClientSession
) -> None:
    generated = await post_json(session, secured, "/auth/tokens/generate", token=WRITE)
    body = {"new_write_token": generated["pending"]["token_write"]}
    await post_json(
        session,
        secured,
        "/auth/tokens/confirm",
        body,
        status=401,
        token=generated["pending"]["token_write"],
    )
    assert secured.state.write_token == WRITE
