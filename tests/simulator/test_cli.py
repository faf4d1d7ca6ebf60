"""``python -m simulator``: starts, prints its URL, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import re
import signal
import sys

import aiohttp
import pytest

from simulator import __main__ as cli
from simulator.__main__ import config_from_args, parse_args

REPO = Path(__file__).resolve().parents[2]


def test_arguments_map_to_the_config() -> None:
    args = parse_args(
        [
            "--port",
            "0",
            "--device-id",
            "aa:bb:cc:00:11:22",
            "--auth",
            "--medium",
            "gas",
            "--firmware",
            "2.0.0",
            "--ota-version",
            "2.1.0",
            "--reboot-seconds",
            "3",
            "--ota-download-seconds",
            "4",
            "--first-reading-delay",
            "5",
            "--mdns",
            "--advertise-ip",
            "192.0.2.9",
            "--seed",
            "7",
        ]
    )
    config = config_from_args(args)
    assert config.device_id == "AABBCC001122"
    assert config.auth_required is True
    assert config.medium == "gas"
    assert (config.firmware, config.ota_version) == ("2.0.0", "2.1.0")
    assert (config.reboot_seconds, config.ota_download_seconds) == (3.0, 4.0)
    assert config.first_reading_delay == 5.0
    assert config.mdns is True
    assert config.advertise_ip == "192.0.2.9"
    assert config.seed == 7
    assert args.host == "127.0.0.1"


def test_loopback_by_default_and_lan_only_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "first_lan_ipv4", lambda: "192.0.2.44")
    args = parse_args([])
    assert args.host == "127.0.0.1"
    assert config_from_args(args).advertise_ip == "127.0.0.1"
    args = parse_args(["--lan"])
    assert args.host == "0.0.0.0"
    assert config_from_args(args).advertise_ip == "192.0.2.44"
    args = parse_args(["--lan", "--host", "192.0.2.7", "--advertise-ip", "192.0.2.8"])
    assert args.host == "192.0.2.7"
    assert config_from_args(args).advertise_ip == "192.0.2.8"
    # A bind address without --lan is also the advertised one.
    assert config_from_args(parse_args(["--host", "127.0.0.2"])).advertise_ip == (
        "127.0.0.2"
    )


def test_new_flags_map_to_the_config() -> None:
    config = config_from_args(
        parse_args(
            [
                "--profile",
                "tariff",
                "--tariff-schedule",
                "07:00",
                "21:30",
                "--clock-offset",
                "-3600",
                "--legacy-firmware",
                "--missing-endpoint",
                "/system/led",
                "--missing-endpoint",
                "ota/check",
                "--history-gap",
                "2026-03-01",
                "--cotenant-rate",
                "20",
                "--meter-attention",
            ]
        )
    )
    assert config.profile == "tariff"
    assert config.tariff_schedule == ("07:00", "21:30")
    assert config.clock_offset == -3600
    assert config.legacy_firmware is True
    assert config.missing_endpoints == ("/api/v1/system/led", "/api/v1/ota/check")
    assert config.history_gaps == ("2026-03-01",)
    assert config.cotenant_rate == 20
    assert config.meter_attention is True
    gas = config_from_args(parse_args(["--profile", "gas"]))
    assert (gas.profile, gas.medium) == ("gas", "gas")
    assert cli.main(["--profile", "tariff", "--medium", "water"]) == 2


async def test_cli_runs_and_stops(socket_enabled: None) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulator",  # no --host: binds 127.0.0.1
        "--port",
        "0",
        "--device-id",
        "112233445566",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        assert "112233445566" in line
        assert "mdns=off" in line
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{match.group(1)}/api/v1/system/alive") as resp,
        ):
            assert resp.status == 200
            assert (await resp.json())["alive"] is True
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
