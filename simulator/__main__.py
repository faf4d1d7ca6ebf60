"""Command line: ``python -m simulator --port 8080 [options]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from .config import MEDIA, SimulatorConfig
from .core import Simulator
from .mdns import first_lan_ipv4
from .profiles import PROFILE_HELP, PROFILES

LOOPBACK = "127.0.0.1"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulate a WattWächter Plus smart-meter reader (REST API).",
        epilog="profiles: "
        + "; ".join(f"{name}: {text}" for name, text in PROFILE_HELP.items()),
    )
    parser.add_argument(
        "--lan",
        action="store_true",
        help="serve on every interface and advertise the first LAN IPv4 "
        "(default: 127.0.0.1 only)",
    )
    parser.add_argument(
        "--host", default=None, help="bind address (default 127.0.0.1, --lan 0.0.0.0)"
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="TCP port, 0 = free port"
    )
    parser.add_argument(
        "--device-id", default="AABBCCDDEEFF", help="12 upper-case hex digits"
    )
    parser.add_argument("--auth", action="store_true", help="require API tokens")
    parser.add_argument("--read-token", default="READTOKEN1234567")
    parser.add_argument("--write-token", default="WRITETOKEN123456")
    parser.add_argument("--medium", choices=MEDIA, default="electricity")
    parser.add_argument("--profile", choices=PROFILES, default="default")
    parser.add_argument(
        "--tariff-schedule",
        nargs=2,
        metavar=("T1_START", "T2_START"),
        default=("06:00", "22:00"),
        help="local times tariff 1 and tariff 2 begin (profile tariff)",
    )
    parser.add_argument(
        "--clock-offset", type=float, default=0.0, help="meter clock error in s"
    )
    parser.add_argument(
        "--legacy-firmware",
        action="store_true",
        help="leave out the newer /system/info and /settings fields",
    )
    parser.add_argument(
        "--missing-endpoint",
        action="append",
        default=[],
        metavar="PATH",
        help="an endpoint the firmware lacks (404), e.g. /system/led; repeatable",
    )
    parser.add_argument(
        "--history-gap",
        action="append",
        default=[],
        metavar="YYYY-MM-DD",
        help="a day without history; repeatable",
    )
    parser.add_argument(
        "--cotenant-rate",
        type=int,
        default=0,
        help="requests another client sends per rate window",
    )
    parser.add_argument(
        "--meter-attention", action="store_true", help="LED METER_ATTENTION on"
    )
    parser.add_argument("--firmware", default="1.2.3", help="running firmware version")
    parser.add_argument(
        "--ota-version", default="1.3.0", help="version /ota/check offers"
    )
    parser.add_argument(
        "--ota-fail", action="store_true", help="OTA keeps the old version"
    )
    parser.add_argument("--reboot-seconds", type=float, default=10.0)
    parser.add_argument("--ota-download-seconds", type=float, default=20.0)
    parser.add_argument("--first-reading-delay", type=float, default=0.0)
    parser.add_argument("--timezone", default="Europe/Berlin")
    parser.add_argument("--device-name", default="WattWaechter")
    parser.add_argument("--mdns", action="store_true", help="advertise over mDNS")
    parser.add_argument(
        "--advertise-ip",
        default=None,
        help="IPv4 to advertise (default 127.0.0.1, --lan the first LAN IPv4)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.host is None:
        args.host = "0.0.0.0" if args.lan else LOOPBACK
    return args


def advertise_ip(args: argparse.Namespace) -> str:
    """Return the address to report and advertise: never a LAN one without --lan."""
    if args.advertise_ip:
        return str(args.advertise_ip)
    if args.lan:
        return first_lan_ipv4()
    if args.host not in ("", "0.0.0.0", "::", "localhost"):
        return str(args.host)
    return LOOPBACK


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Build the simulator configuration from parsed arguments."""
    return SimulatorConfig(
        device_id=args.device_id.upper().replace(":", ""),
        auth_required=args.auth,
        read_token=args.read_token,
        write_token=args.write_token,
        medium=args.medium,
        profile=args.profile,
        tariff_schedule=tuple(args.tariff_schedule),
        clock_offset=args.clock_offset,
        legacy_firmware=args.legacy_firmware,
        missing_endpoints=tuple(args.missing_endpoint),
        history_gaps=tuple(args.history_gap),
        cotenant_rate=args.cotenant_rate,
        meter_attention=args.meter_attention,
        firmware=args.firmware,
        ota_version=args.ota_version,
        ota_fail=args.ota_fail,
        reboot_seconds=args.reboot_seconds,
        ota_download_seconds=args.ota_download_seconds,
        first_reading_delay=args.first_reading_delay,
        timezone=args.timezone,
        device_name=args.device_name,
        mdns=args.mdns,
        advertise_ip=advertise_ip(args),
        seed=args.seed,
    )


async def run(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly."""
    sim = Simulator(config_from_args(args))
    await sim.start(host=args.host, port=args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    mdns = f"on ({sim.ip_address})" if sim.config.mdns else "off"
    reachable = ""
    if args.host in ("", "0.0.0.0", "::"):
        reachable = f" (http://{sim.ip_address}:{sim.port})"
    print(
        f"WattWaechter simulator listening on {sim.url}{reachable} "
        f"device_id={sim.config.device_id} mdns={mdns}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the command line interface; return the exit status."""
    args = parse_args(argv)
    try:
        config_from_args(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
