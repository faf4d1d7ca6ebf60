"""Shapes of every endpoint, as documented in the API reference."""

from __future__ import annotations

import aiohttp

from simulator import Simulator

from .conftest import API, Clock, SimFactory, get_json, post_json


def _section(info: dict[str, list[dict[str, str]]], name: str) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in info[name]}


async def test_alive(sim: Simulator, session: aiohttp.ClientSession) -> None:
    assert await get_json(session, sim, "/system/alive") == {
        "alive": True,
        "version": "1.2.3",
    }


async def test_system_info(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    clock.advance(2 * 86400 + 5 * 3600 + 30 * 60 + 59)
    info = await get_json(session, sim, "/system/info")
    assert set(info) == {"uptime", "wifi", "ap", "esp", "heap"}
    assert info["uptime"] == [{"name": "uptime", "value": "2d 5h 30m", "unit": ""}]
    wifi = _section(info, "wifi")
    assert wifi["mac_address"] == "AA:BB:CC:DD:EE:FF"
    assert wifi["mdns_name"] == "wattwaechter-aabbccddeeff.local"
    assert wifi["ip_address"] == "127.0.0.1"
    assert wifi["ssid"] == "SimNetwork"
    assert isinstance(wifi["signal_strength"], str)
    assert -70 < int(wifi["signal_strength"]) < -50
    signal = next(e for e in info["wifi"] if e["name"] == "signal_strength")
    assert signal["unit"] == "dBm"
    assert info["ap"] == []
    assert _section(info, "esp") == {
        "esp_id": "AABBCCDDEEFF",
        "product_name": "WattWächter Plus",
        "model_id": "ww_plus",
        "os_version": "1.2.3",
    }
    assert int(_section(info, "heap")["free_heap"]) > 25_000


async def test_led_ok(sim: Simulator, session: aiohttp.ClientSession) -> None:
    led = await get_json(session, sim, "/system/led")
    assert led["status"] == "OK"
    assert led["priority"] == 1
    assert led["color"] == "green"
    assert led["mode"] == "dimmed"
    assert led["rgb"] == {"r": 0, "g": 255, "b": 0}
    assert led["enabled"] is True
    assert led["active_statuses"]["ok"] is True
    assert led["active_statuses"]["error"] is False


async def test_selftest(sim: Simulator, session: aiohttp.ClientSession) -> None:
    assert await post_json(session, sim, "/system/selftest") == {
        "success": True,
        "result": "SUCCESS",
        "message": "IR-Transceiver OK",
    }


async def test_wifi_scan(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    scan = await get_json(session, sim, "/system/wifi_scan")
    assert scan["count"] == len(scan["networks"]) > 0
    assert set(scan["networks"][0]) == {"ssid", "rssi"}
    refresh = await get_json(session, sim, "/system/wifi_scan?refresh=true")
    assert refresh == {"networks": [], "count": 0, "scanning": True}
    clock.advance(1.5)
    again = await get_json(session, sim, "/system/wifi_scan")
    assert again["count"] > 0
    assert "scanning" not in again


async def test_timezones(sim: Simulator, session: aiohttp.ClientSession) -> None:
    zones = await get_json(session, sim, "/system/timezones")
    assert isinstance(zones, list)
    assert {"name": "Europe/Berlin", "utcOffsetMin": 60} in zones
    assert {"name": "America/New_York", "utcOffsetMin": -300} in zones
    assert all(set(zone) == {"name", "utcOffsetMin"} for zone in zones)


async def test_latest_electricity(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    latest = await get_json(session, sim, "/history/latest")
    assert latest["timestamp"] == int(clock.now)
    assert latest["datetime"] == "2026-03-10T12:00:00"
    expected = {
        "1.8.0": ("kWh", "Bezug"),
        "1.8.1": ("kWh", "Bezug Tarif 1"),
        "1.8.2": ("kWh", "Bezug Tarif 2"),
        "2.8.0": ("kWh", "Einspeisung"),
        "2.8.1": ("kWh", "Einspeisung Tarif 1"),
        "16.7.0": ("W", "Leistung"),
        "36.7.0": ("W", "Leistung L1"),
        "56.7.0": ("W", "Leistung L2"),
        "76.7.0": ("W", "Leistung L3"),
        "32.7.0": ("V", "Spannung L1"),
        "52.7.0": ("V", "Spannung L2"),
        "72.7.0": ("V", "Spannung L3"),
        "31.7.0": ("A", "Strom L1"),
        "51.7.0": ("A", "Strom L2"),
        "71.7.0": ("A", "Strom L3"),
        "14.7.0": ("Hz", "Frequenz"),
        "13.7.0": ("", "Leistungsfaktor"),
        "96.1.0": ("", "Zählernummer"),
        "94.91.0": ("", "Statuswort"),
    }
    assert set(latest) == {"timestamp", "datetime", *expected}
    for key, (unit, name) in expected.items():
        assert latest[key]["unit"] == unit, key
        assert latest[key]["name"] == name, key
    values = {key: latest[key]["value"] for key in expected}
    assert values["96.1.0"] == "1EMH0012345678"
    assert values["94.91.0"] == "0x0182"
    for key in ("32.7.0", "52.7.0", "72.7.0"):
        assert isinstance(values[key], str)  # the firmware sends these as strings
        assert 227 <= float(values[key]) <= 233
    assert round(values["1.8.1"] + values["1.8.2"], 3) == values["1.8.0"]
    assert values["2.8.1"] == values["2.8.0"]
    phases = values["36.7.0"] + values["56.7.0"] + values["76.7.0"]
    assert abs(phases - values["16.7.0"]) < 0.01
    for power, volts, amps in (
        ("36.7.0", "32.7.0", "31.7.0"),
        ("56.7.0", "52.7.0", "51.7.0"),
        ("76.7.0", "72.7.0", "71.7.0"),
    ):
        assert abs(values[amps] - abs(values[power]) / float(values[volts])) < 0.01
    assert 49.95 <= values["14.7.0"] <= 50.05
    assert 0.95 <= values["13.7.0"] <= 0.99


async def test_settings_get(sim: Simulator, session: aiohttp.ClientSession) -> None:
    settings = await get_json(session, sim, "/settings")
    assert set(settings) == {
        "wifi",
        "accessPoint",
        "mqtt",
        "language",
        "timezone",
        "ntp_server",
        "rebootCounter",
        "rebootsTotal",
        "rebootsAll",
        "ledEnable",
        "api_auth_required",
        "device_name",
        "awsIotEnabled",
    }
    assert set(settings["wifi"]) == {"primary", "secondary"}
    assert set(settings["wifi"]["primary"]) == {
        "enable",
        "ssid",
        "static_ip",
        "ip",
        "subnet",
        "gateway",
        "dns",
    }
    assert set(settings["mqtt"]) == {
        "enable",
        "host",
        "port",
        "use_tls",
        "user",
        "sendInterval",
        "client_id",
        "topic_prefix",
    }
    assert settings["ledEnable"] is True
    assert settings["api_auth_required"] is False
    assert settings["device_name"] == "WattWaechter"
    assert settings["timezone"] == "Europe/Berlin"
    assert settings["language"]["active"] == "de"


async def test_settings_post_merges_and_hides_passwords(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    body = {
        "mqtt": {
            "enable": True,
            "host": "mqtt.local",
            "port": 1883,
            "password": "s3cr3t!",
        },
        "device_name": "Keller-Zähler",
    }
    answer = await post_json(session, sim, "/settings", body)
    assert answer == {
        "success": True,
        "applied": {
            "mqtt": {"enable": True, "host": "mqtt.local", "port": 1883},
            "device_name": "Keller-Zähler",
        },
    }
    settings = await get_json(session, sim, "/settings")
    assert settings["mqtt"]["host"] == "mqtt.local"
    assert settings["mqtt"]["use_tls"] is True  # untouched key survives the merge
    assert settings["device_name"] == "Keller-Zähler"
    assert "password" not in settings["mqtt"]
    assert "s3cr3t!" not in str(settings)
    assert sim.state.secrets == {"mqtt.password": "s3cr3t!"}
    status = await get_json(session, sim, "/mqtt/status")
    assert status["enabled"] is True
    assert status["state"] == "CONNECTED"


async def test_settings_post_rejects_bad_values(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    for body in (
        {"ledEnable": "no"},
        {"mqtt": {"port": "1883"}},
        {"timezone": "Mars/Olympus"},
        [1, 2],
    ):
        answer = await post_json(session, sim, "/settings", body, status=400)
        assert answer["success"] is False
    async with session.post(f"{sim.url}{API}/settings", data=b"{not json") as resp:
        assert resp.status == 400
    settings = await get_json(session, sim, "/settings")
    assert settings["ledEnable"] is True
    assert settings["timezone"] == "Europe/Berlin"


async def test_ota_check_without_update(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(firmware="1.2.3", ota_version="1.2.3")
    assert await get_json(session, sim, "/ota/check") == {
        "ok": True,
        "data": {"update_available": False},
    }
    assert await post_json(session, sim, "/ota/start") == {
        "ok": False,
        "msg": "No update available",
    }
    # Firmware 1.3 says "ok" and that there is no update (client 1.2 changelog).
    sim.configure(firmware="1.3.0", ota_version="1.3.0")
    assert await post_json(session, sim, "/ota/start") == {
        "ok": True,
        "update_available": False,
    }


async def test_ota_check_with_update(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    check = await get_json(session, sim, "/ota/check")
    assert check["ok"] is True
    data = check["data"]
    assert data["update_available"] is True
    assert data["version"] == "1.3.0"
    assert data["tag"] == "stable"
    assert data["last_checked"] == int(clock.now)
    assert set(data) == {
        "update_available",
        "version",
        "tag",
        "release_date",
        "release_note_de",
        "release_note_en",
        "last_checked",
    }  # no url/md5: the firmware never sends them


async def test_mqtt_and_modbus_status(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    mqtt = await get_json(session, sim, "/mqtt/status")
    assert mqtt == {
        "enabled": False,
        "state": "OFF",
        "host": "",
        "port": 8883,
        "client_id": "wattwaechter-aabbccddeeff",
        "use_tls": True,
        "last_error": 0,
        "last_error_message": "",
        "reconnect_attempts": 0,
    }
    modbus = await get_json(session, sim, "/modbus/status")
    assert modbus["enabled"] is False
    assert modbus["running"] is False
    assert modbus["port"] == 502
    assert modbus["active_connections"] == 0
    registers = {r["register"]: r for r in modbus["registers"]}
    assert registers[40088]["obis"] == "16.7.0"
    assert registers[40088]["valid"] is False
    assert registers[40088]["value"] is None

    await post_json(session, sim, "/settings", {"modbus": {"enable": True}})
    modbus = await get_json(session, sim, "/modbus/status")
    assert modbus["running"] is True
    total = {r["register"]: r for r in modbus["registers"]}[40116]
    assert total["obis"] == "1.8.0"
    assert total["valid"] is True
    assert isinstance(total["value"], float)


async def test_mqtt_ca_cloud_setup_and_logs(
    sim: Simulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    assert await get_json(session, sim, "/mqtt/ca") == {
        "has_custom_cert": False,
        "bundle_size": 5750,
        "custom_size": 0,
    }
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    added = await post_json(session, sim, "/mqtt/ca", {"certificate": pem})
    assert added["success"] is True
    assert added["message"] == "Certificate added"
    too_big = "-----BEGIN CERTIFICATE-----" + "A" * 5000
    await post_json(session, sim, "/mqtt/ca", {"certificate": too_big}, status=413)
    async with session.delete(f"{sim.url}{API}/mqtt/ca") as resp:
        assert resp.status == 200
        assert (await resp.json())["message"] == "Custom certificate deleted"
    async with session.delete(f"{sim.url}{API}/mqtt/ca") as resp:
        assert resp.status == 404
    paired = await post_json(
        session, sim, "/cloud/pair", {"pairing_token": "WW-ABCDEFGH"}
    )
    assert paired["success"] is True
    await get_json(session, sim, "/setup/token", status=403)
    await get_json(session, sim, "/logs/persistent", status=404)
    clock.advance(5)
    async with session.get(f"{sim.url}{API}/logs/rawdump") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/octet-stream"
        assert (await resp.read()).startswith(bytes.fromhex("1b1b1b1b01010101"))
    async with session.get(f"{sim.url}{API}/logs/ram") as resp:
        assert resp.status == 200
        assert "Boot" in await resp.text()


async def test_unknown_path_and_method(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    assert await get_json(session, sim, "/nope", status=404) == {"error": "Not found"}
    async with session.get(f"{sim.url}/") as resp:
        assert resp.status == 404
    async with session.post(f"{sim.url}{API}/system/alive") as resp:
        assert resp.status == 405
    async with session.get(f"{sim.url}{API}/system/reboot") as resp:
        assert resp.status == 405
    assert sim.state.offline_until is None  # a GET did not reboot it


async def test_json_content_type_and_compact_body(
    sim: Simulator, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{sim.url}{API}/system/alive") as resp:
        assert resp.headers["Content-Type"] == "application/json"
        assert await resp.read() == b'{"alive":true,"version":"1.2.3"}'
