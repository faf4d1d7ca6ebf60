"""Walk a new user's first hour with the integration in a real browser.

Usage (inside ``tour.netns``; ``scripts/tour`` does all of it):
``python -m tour [--ha 2025.4|2026.11|both] [--out DIR] [--until STEP]``

Why: unit tests cannot see what a user sees. This starts the simulator and a
fresh Home Assistant, drives Debian's chromium through onboarding, discovery,
the device and its controls, the Energy dashboard and a statistics repair, and
fails when a step does not do what it should. Step times go to ``steps.tsv``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
import re
import sys
import time

from playwright.async_api import async_playwright

from . import steps_device, steps_energy, steps_firmware, steps_repair, steps_setup
from .netns import only_loopback
from .runner import CHROMIUM_ARGS, Run, check
from .stack import HA_URL, VERSIONS, HomeAssistant, Simulator

STEPS = [
    ("onboarding", steps_setup.onboarding),
    ("discovered", steps_setup.discovered),
    ("add", steps_setup.add),
    ("add-by-host", steps_setup.add_by_host),
    ("device-page", steps_setup.device_page),
    ("entities", steps_device.entities),
    ("led", steps_device.led),
    ("firmware-update", steps_firmware.firmware),
    ("restart-during-import", steps_device.restart),
    ("offline", steps_firmware.offline),
    ("energy-picker", steps_energy.energy),
    ("statistics-repair", steps_repair.repair),
    ("repairs", steps_energy.repairs),
]
# Console noise of an offline browser (map tiles, brand icons) is not a defect.
IGNORED_CONSOLE = ("ERR_INTERNET_DISCONNECTED", "ERR_NAME_NOT_RESOLVED")


def _handled_action_error(block: str) -> bool:
    """Return whether a traceback is HA 2025.4 logging a translated action error.

    Its websocket API logs every HomeAssistantError of a service call with a
    traceback ("Unexpected exception"); newer cores do not. The integration did
    raise the error it should.
    """
    last = block.rstrip().splitlines()[-1]
    return "Unexpected exception" in block.splitlines()[0] and last.startswith(
        "homeassistant.exceptions.HomeAssistantError"
    )


def _other_brand(url: str) -> bool:
    """Return whether a URL is another integration's brand image (none offline)."""
    return "/api/brands/" in url and "/wattwaechter/" not in url


def log_findings(log: str) -> tuple[list[str], list[str]]:
    """Return (tracebacks through the integration, its ERROR/WARNING lines)."""
    blocks = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", log)
    ours = [b for b in blocks if "wattwaechter" in b.lower()]
    # HA's coordinator adds the traceback of a failed update at DEBUG ("Full
    # error"); the tour turns DEBUG on for the integration. Above DEBUG, none.
    tracebacks = [
        b
        for b in ours
        if "Traceback" in b
        and "custom_components/wattwaechter" in b
        and " DEBUG " not in b.splitlines()[0]
        and not _handled_action_error(b)
    ]
    lines = [
        b.splitlines()[0] + (" (with traceback)" if "Traceback" in b else "")
        for b in ours
        if re.search(r" (ERROR|WARNING) ", b)
        and "has not been tested by Home Assistant" not in b
    ]
    return tracebacks, lines


async def tour_one(label: str, out: Path, args: argparse.Namespace) -> Run:
    """Run every step against one HA version; stop at the first failure."""
    sim = Simulator(
        out, ota_seconds=args.ota_seconds, reboot_seconds=args.reboot_seconds
    )
    ha = HomeAssistant(VERSIONS[label], out)
    console: list[str] = []
    started = time.monotonic()
    await sim.start()
    try:
        await ha.start()
        print(
            f"[{label}] simulator and Home Assistant up in "
            f"{time.monotonic() - started:.1f} s",
            flush=True,
        )
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            # A user in Germany: HA takes its time zone from the browser.
            page = await browser.new_page(
                viewport={"width": 1280, "height": 900},
                timezone_id="Europe/Berlin",
                locale="en-US",
            )
            page.set_default_timeout(20_000)
            page.on(
                "console",
                lambda m: (
                    console.append(m.text)
                    if m.type == "error"
                    and not any(i in m.text for i in IGNORED_CONSOLE)
                    and "Failed to load resource" not in m.text
                    else None
                ),
            )
            page.on(
                "response",
                lambda r: (
                    console.append(f"HTTP {r.status} {r.url}")
                    if r.status >= 400
                    and r.url.startswith(HA_URL)
                    and not _other_brand(r.url)
                    else None
                ),
            )
            run = Run(page, out, label, sim)
            for name, action in STEPS:
                if not await run.step(name, lambda a=action: a(run)):
                    break
                if name == args.until:
                    break
            await browser.close()
    finally:
        await ha.stop()
        with contextlib.suppress(Exception):  # for a look at the traffic later
            (out / "requests.json").write_text(json.dumps(await sim.log(), indent=0))
        await sim.stop()

    async def logs() -> None:
        log_file = out / "home-assistant.log"
        log = await asyncio.to_thread(log_file.read_text, errors="replace")
        tracebacks, lines = log_findings(log)
        run.notes += [f"HA log: {line}" for line in lines]
        run.notes += [f"browser: {line[:200]}" for line in dict.fromkeys(console)]
        check(not tracebacks, "tracebacks in HA's log:\n" + "\n".join(tracebacks))

    if all(r.error is None for r in run.results):
        await run.step("ha-log", logs)
    (out / "steps.tsv").write_text(
        "".join(f"{r.name}\t{r.seconds:.1f}\t{r.error or 'ok'}\n" for r in run.results)
    )
    return run


def main() -> int:
    """Tour the chosen HA versions and print a summary; 1 when a step failed."""
    parser = argparse.ArgumentParser(prog="python -m tour")
    parser.add_argument("--ha", choices=[*VERSIONS, "both"], default="both")
    parser.add_argument("--out", type=Path, default=Path("tour-out"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--until", choices=[name for name, _ in STEPS])
    # Long enough for two meter updates while the device downloads.
    parser.add_argument("--ota-seconds", type=float, default=25)
    parser.add_argument("--reboot-seconds", type=float, default=4)
    args = parser.parse_args()
    if not only_loopback():
        print("refusing to run: more network interfaces than lo (use scripts/tour)")
        return 2
    labels = list(VERSIONS) if args.ha == "both" else [args.ha]
    failed = False
    for label in labels:
        started = time.monotonic()
        (args.out / label).mkdir(parents=True, exist_ok=True)
        run = asyncio.run(tour_one(label, args.out / label, args))
        total = time.monotonic() - started
        want = len(STEPS) + 1 if args.until is None else None
        ok = (want is None or len(run.results) == want) and all(
            r.error is None for r in run.results
        )
        failed |= not ok
        print(
            f"[{label}] {'PASSED' if ok else 'FAILED'}: {len(run.results)} steps, "
            f"total {total:.1f} s; screenshots in {args.out / label}"
        )
        for note in run.notes:
            print(f"[{label}] note: {note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
