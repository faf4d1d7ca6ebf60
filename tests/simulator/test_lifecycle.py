"""Reboot and OTA life cycles, the first-reading window and the LED."""

from __future__ import annotations

import aiohttp
import pytest

from simulator import Simulator

from .conftest import API, Clock, SimFactory, get_json, post_json


async def _offline(session: aiohttp.ClientSession, sim: Simulator) -> bool:
    """Return True when the request's connection is dropped."""
    try:
        async with session.get(f"{sim.url}{API}/system/alive") as resp:
            await resp.read()
    except aiohttp.ClientError:
        return True
    return False


async def _uptime(session: aiohttp.ClientSession, sim: Simulator) -> str:
    info = await get_json(session, sim, "/system/info")
    return str(info["uptime"][0]["value"])


async def test_reboot_goes_offline_and_comes_back(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.advance(3600)
    assert await _uptime(session, sim) == "0d 1h 0m"
    assert await post_json(session, sim, "/system/reboot") == {"rebooting": True}
    assert await _offline(session, sim)
    clock.advance(9.9)
    assert await _offline(session, sim)
    assert sim.request_log[-1].status == 0
    clock.advance(0.2)
    assert not await _offline(session, sim)
    assert await _uptime(session, sim) == "0d 0h 0m"
    assert sim.state.settings["rebootCounter"] == 1
    assert sim.state.boots == 2


async def test_first_reading_window_after_boot_and_reboot(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(first_reading_delay=30, reboot_seconds=5)
    async with session.get(f"{sim.url}{API}/history/latest") as resp:
        assert resp.status == 204
        assert await resp.read() == b""
    led = await get_json(session, sim, "/system/led")
    assert led["status"] == "STARTUP"
    assert led["color"] == "yellow"
    assert led["active_statuses"]["startup"] is True
    clock.advance(30)
    assert (await get_json(session, sim, "/history/latest"))["1.8.0"]["value"] > 0
    assert (await get_json(session, sim, "/system/led"))["status"] == "OK"
    await post_json(session, sim, "/system/reboot")
    clock.advance(5)
    await get_json(session, sim, "/history/latest", status=204)
    clock.advance(30)
    await get_json(session, sim, "/history/latest")


async def test_ota_life_cycle(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(ota_download_seconds=20, reboot_seconds=10)
    clock.advance(600)
    assert await post_json(session, sim, "/ota/start") == {
        "ok": True,
        "msg": "OTA started",
        "update_available": True,
        "version": "1.3.0",
        "rebooting": True,
    }
    # Downloading: the API is up, the LED shows OTA_ACTIVE, version unchanged.
    clock.advance(10)
    led = await get_json(session, sim, "/system/led")
    assert led["status"] == "OTA_ACTIVE"
    assert led["priority"] == 6
    assert led["color"] == "magenta"
    assert led["mode"] == "solid"
    assert led["active_statuses"]["ota_active"] is True
    assert (await get_json(session, sim, "/system/alive"))["version"] == "1.2.3"
    again = await post_json(session, sim, "/ota/start")
    assert again["ok"] is False
    # Flashing and reboot: offline.
    clock.advance(10)
    assert await _offline(session, sim)
    clock.advance(9)
    assert await _offline(session, sim)
    clock.advance(1)
    assert (await get_json(session, sim, "/system/alive"))["version"] == "1.3.0"
    info = await get_json(session, sim, "/system/info")
    esp = {entry["name"]: entry["value"] for entry in info["esp"]}
    assert esp["os_version"] == "1.3.0"
    assert info["uptime"][0]["value"] == "0d 0h 0m"
    assert (await get_json(session, sim, "/system/led"))["status"] == "OK"
    assert await get_json(session, sim, "/ota/check") == {
        "ok": True,
        "data": {"update_available": False},
    }
    assert sim.state.firmware == "1.3.0"


async def test_ota_fail_keeps_the_old_version(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(ota_download_seconds=5, reboot_seconds=5)
    await post_json(session, sim, "/ota/start")
    sim.configure(ota_fail=True)
    clock.advance(7)
    assert await _offline(session, sim)
    clock.advance(5)
    assert (await get_json(session, sim, "/system/alive"))["version"] == "1.2.3"
    check = await get_json(session, sim, "/ota/check")
    assert check["data"]["update_available"] is True
    assert sim.state.ota_attempts == 1


async def test_state_follows_the_clock_without_requests(
    make_sim: SimFactory, clock: Clock
) -> None:
    sim = await make_sim(ota_download_seconds=5, reboot_seconds=5)
    assert sim.state.firmware == "1.2.3"
    sim.device.start_ota()
    clock.advance(100)
    assert sim.state.firmware == "1.3.0"
    assert sim.state.boot_time == pytest.approx(clock.now - 90)


async def test_led_follows_led_enable(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    await post_json(session, sim, "/settings", {"ledEnable": False})
    led = await get_json(session, sim, "/system/led")
    assert led["enabled"] is False
    assert led["color"] == "off"
    assert led["mode"] == "off"
    assert led["rgb"] == {"r": 0, "g": 0, "b": 0}
    assert led["status"] == "OK"
    await post_json(session, sim, "/settings", {"ledEnable": True})
    led = await get_json(session, sim, "/system/led")
    assert led["enabled"] is True
    assert led["color"] == "green"


async def test_rate_window_resets_on_reboot(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: Clock
) -> None:
    sim = await make_sim(rate_limit=3, reboot_seconds=1)
    await get_json(session, sim, "/system/alive")
    await get_json(session, sim, "/system/alive")
    await post_json(session, sim, "/system/reboot")
    clock.advance(1)
    for _ in range(3):
        await get_json(session, sim, "/system/alive")
    await get_json(session, sim, "/system/alive", status=429)
