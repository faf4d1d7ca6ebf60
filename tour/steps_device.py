"""Tour steps on the added device: its entities, the controls and bad moments.

Why: after adding the device, a user opens every entity, flips the LED, restarts
the device, installs the offered firmware, sees it go offline and come back, and
sets up the Energy dashboard. Each step checks what the user sees against what
the simulated device really did.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.async_api import Page, TimeoutError as PlaywrightTimeoutError

from .runner import (
    Run,
    StepFailed,
    check,
    deep_text,
    hass_eval,
    number,
    state,
    wait_state,
    wait_text,
)
from .steps_setup import DOMAIN, SHORT

ENERGY = "sensor.wattwaechter_energy_import"
SWITCH = "switch.wattwaechter_status_led"
UPDATE = "update.wattwaechter_firmware"
# Plausible ranges by device class: (low, high, unit shown).
RANGES = {
    "voltage": (180.0, 260.0, "V"),
    "current": (0.0, 100.0, "A"),
    "frequency": (49.0, 51.0, "Hz"),
    "power": (-50_000.0, 50_000.0, "W"),
    "energy": (0.001, 1e9, "kWh"),
}
# Energy sensors that the simulator's /_sim/state counters give exactly.
COUNTERS = {"import_total": "import_kWh", "export_total": "export_kWh"}
ENERGY_TOLERANCE = 0.05  # kWh: what the meter may add between two polls


async def _entities(page: Page) -> list[dict[str, Any]]:
    """Return the registry entries of the integration's enabled entities."""
    return list(
        await hass_eval(
            page,
            "return Object.values(hass.entities).filter(e => e.platform === arg"
            " && hass.states[e.entity_id]).sort((a, b) =>"
            " a.entity_id.localeCompare(b.entity_id));",
            DOMAIN,
        )
    )


async def _open(page: Page, name: str) -> str:
    """Open an entity's more-info dialog from its device page row; return its text."""
    await (
        page.locator("ha-config-device-page")
        .get_by_text(name, exact=True)
        .first.click()
    )
    dialog = page.locator("ha-more-info-dialog")
    await dialog.get_by_text(name, exact=True).first.wait_for(timeout=SHORT)
    await page.wait_for_timeout(300)  # let the state row render
    return await deep_text(dialog)


async def _close(page: Page) -> None:
    """Close the more-info dialog."""
    await page.keyboard.press("Escape")
    await (
        page.locator("ha-more-info-dialog")
        .get_by_role("dialog")
        .wait_for(state="detached", timeout=SHORT)
    )


def _check_entity(
    entry: dict[str, Any], st: dict[str, Any], text: str, sim: dict[str, Any]
) -> None:
    """Check one entity's state and its more-info text for plausibility."""
    eid, key = entry["entity_id"], entry.get("translation_key")
    value, attrs = st["state"], st["attributes"]
    if eid.startswith("button."):
        check(value == "unknown", f"{eid}: a never pressed button shows {value!r}")
        return
    check(value not in ("unavailable", "unknown"), f"{eid} is {value}")
    if eid.startswith("switch."):
        check(value == "on", f"{eid}: LED should start on, is {value}")
    elif eid.startswith("update."):
        check(value == "on", f"{eid}: the offered firmware is not shown")
        check("1.2.3" in text and "1.3.0" in text, f"{eid}: versions missing")
    elif key == "led_status":
        check(value == "ok" and "OK" in text, f"{eid}: LED status {value!r}")
    elif attrs.get("device_class") == "power_factor":
        check(-1 <= float(value) <= 1, f"{eid}: power factor {value}")
    elif attrs.get("device_class") in RANGES:
        low, high, unit = RANGES[attrs["device_class"]]
        check(attrs.get("unit_of_measurement") == unit, f"{eid}: unit {attrs}")
        check(low <= float(value) <= high, f"{eid}: {value} {unit} is implausible")
        shown = number(text, unit)
        check(
            abs(shown - float(value)) <= max(1.0, abs(float(value)) * 0.2),
            f"{eid}: dialog shows {shown}, state is {value}",
        )
        if key in COUNTERS:
            expected = sim["counters"][COUNTERS[key]]
            check(
                abs(float(value) - expected) <= ENERGY_TOLERANCE,
                f"{eid}: {value} kWh, the meter says {expected} kWh",
            )


async def entities(run: Run) -> None:
    """Open every enabled entity; each must show a sensible state."""
    page = run.page
    (run.out / "entities").mkdir(exist_ok=True)
    entries = await _entities(page)
    check(len(entries) >= 15, f"only {len(entries)} entities")
    for entry in entries:
        text = await _open(page, entry["name"])
        st = await state(page, entry["entity_id"])
        _check_entity(entry, st, text, await run.sim.state())
        await page.screenshot(
            path=str(run.out / "entities" / f"{entry['entity_id']}.png")
        )
        await _close(page)
    run.notes.append(f"{len(entries)} enabled entities opened")
    # The tariff registers must add up to the total the meter shows.
    values = await hass_eval(
        page,
        "return Object.fromEntries(Object.entries(hass.states).filter(([k]) =>"
        " k.startsWith('sensor.wattwaechter_energy_import')).map(([k, v]) =>"
        " [k, parseFloat(v.state)]));",
    )
    tariffs = sum(v for k, v in values.items() if "_tariff_" in k)
    check(
        abs(tariffs - values[ENERGY]) <= ENERGY_TOLERANCE,
        f"import tariffs add up to {tariffs}, the total is {values[ENERGY]}",
    )
    await run.shot("entities")


async def _toggle_led(page: Page) -> None:
    """Click the Status LED switch on the device page."""
    toggle = page.locator("ha-config-device-page").get_by_role(
        "switch", name=re.compile("Status LED")
    )
    try:
        await toggle.first.click(timeout=3000)
    except PlaywrightTimeoutError:
        # 2026.x draws the switch's track over its input: click where it is.
        await toggle.first.click(force=True)


async def led(run: Run) -> None:
    """Switch the status LED off and on; the device's ledEnable follows."""
    page = run.page
    for want in (False, True):
        await _toggle_led(page)
        await run.sim.wait_for(
            f"ledEnable={want}", lambda s, w=want: s["settings"]["ledEnable"] is w, 15
        )
        await wait_state(
            page,
            SWITCH,
            lambda s, w=want: s["state"] == ("on" if w else "off"),
            "the switch state",
            15,
        )
        await run.shot("led-" + ("on" if want else "off"))


async def restart(run: Run) -> None:
    """Press Restart: the device reboots, HA shows it back with fresh values."""
    page = run.page
    boots = (await run.sim.state())["boots"]
    await (
        page.locator("ha-config-device-page")
        .get_by_role("button", name=re.compile("^press$", re.I))
        .click()
    )
    await run.sim.wait_for("the reboot", lambda s: s["phase"] != "online", 10)
    await run.shot("restart-rebooting")
    await run.sim.wait_for(
        "the device back",
        lambda s: s["boots"] == boots + 1 and s["phase"] == "online",
        60,
    )
    back = time.time()
    await wait_state(
        page,
        ENERGY,
        lambda s: _updated_after(s, back),
        "a reading after the restart",
        60,
    )
    await run.shot("restart-back")


def _updated_after(st: dict[str, Any], when: float) -> bool:
    """Return whether a state is available and was reported after ``when``."""
    from datetime import datetime  # noqa: PLC0415  # only here

    reported = st.get("last_reported") or st["last_updated"]
    stamp = datetime.fromisoformat(reported.replace("Z", "+00:00")).timestamp()
    return st["state"] not in ("unavailable", "unknown") and stamp > when


async def firmware(run: Run) -> None:
    """Install the offered firmware from the update dialog, watching its progress."""
    page = run.page
    await _open(page, "Firmware")
    dialog = page.locator("ha-more-info-dialog")
    await dialog.get_by_role("button", name=re.compile("^update$", re.I)).click()
    await wait_state(
        page,
        UPDATE,
        lambda s: s["attributes"].get("in_progress") not in (False, None),
        "in_progress",
        15,
    )
    progress = dialog.locator(
        "ha-progress-bar, mwc-linear-progress, md-linear-progress, "
        "ha-md-linear-progress, ha-circular-progress, ha-spinner"
    )
    await progress.first.wait_for(timeout=SHORT)
    await run.shot("firmware-progress")
    seen: set[Any] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st = await state(page, UPDATE)
        seen.add(st["attributes"].get("update_percentage"))
        if (
            st["attributes"].get("installed_version") == "1.3.0"
            and st["state"] == "off"
        ):
            break
        await page.wait_for_timeout(250)
    check(st["attributes"].get("installed_version") == "1.3.0", f"not installed: {st}")
    run.notes.append(
        f"update percentages seen: {sorted(p for p in seen if p is not None)}"
    )
    text = await deep_text(dialog)
    check("1.3.0" in text, f"the dialog does not show 1.3.0: {text[:300]!r}")
    sim = await run.sim.state()
    check(sim["firmware"] == "1.3.0", f"the device runs {sim['firmware']}")
    await run.shot("firmware-done")
    await _close(page)
    try:
        await wait_text(
            page.locator("ha-config-device-page"), "Firmware: 1.3.0", within=5
        )
    except StepFailed:
        run.notes.append("device info still shows the old firmware after the update")


async def offline(run: Run) -> None:
    """Take the device offline: entities go unavailable; back online they return."""
    page = run.page
    await run.sim.fault("offline", active=True)
    await wait_state(
        page, ENERGY, lambda s: s["state"] == "unavailable", "unavailable", 90
    )
    text = await deep_text(page.locator("ha-config-device-page"))
    check("Unavailable" in text, "the device page does not show Unavailable")
    await run.shot("offline")
    led = await state(page, SWITCH)
    if led["state"] != "unavailable":
        # The user may still flip the LED: what does HA tell them?
        await _toggle_led(page)
        try:
            message = await wait_text(
                page.locator("notification-manager"), "WattWächter", within=10
            )
        except StepFailed:
            message = "(no message)"
        run.notes.append(f"LED flipped while offline (was {led['state']}): {message}")
        await run.shot("offline-led-toast")
    await run.sim.fault("offline", active=False)
    await wait_state(
        page,
        ENERGY,
        lambda s: s["state"] not in ("unavailable", "unknown"),
        "available again",
        90,
    )
    await run.shot("back-online")
