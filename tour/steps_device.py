"""Tour steps on the added device: its entities, the LED switch and a restart.

Why: after adding the device, a user opens every entity, flips the LED and
restarts the device, and expects each to show what the device really did. The
restart is pressed while the device's history is being imported (a minute after
adding it): the import has to go on once the device is back, not an hour later.
"""

from __future__ import annotations

from datetime import datetime
import re
import time
from typing import Any

from playwright.async_api import Page, TimeoutError as PlaywrightTimeoutError

from .runner import (
    Run,
    StepFailed,
    call_ws,
    check,
    deep_text,
    hass_eval,
    number,
    state,
    wait_state,
)
from .steps_setup import DOMAIN, SHORT

ENERGY = "sensor.wattwaechter_total_consumption"
POWER = "sensor.wattwaechter_active_power"
LED_STATUS = "sensor.wattwaechter_led_status"
TARIFF = "sensor.wattwaechter_active_tariff"
SWITCH = "switch.wattwaechter_status_led"
BUTTON = "button.wattwaechter_restart"
UPDATE = "update.wattwaechter_firmware"
CONTROLS = (SWITCH, BUTTON, UPDATE)
# Diagnostics off by default, named as in HA core 2026.11.
DISABLED = ("sensor.wattwaechter_signal_strength", "sensor.wattwaechter_ssid")
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
HISTORY = "/api/v1/history/highRes"


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


async def open_more_info(page: Page, name: str) -> str:
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


async def close_more_info(page: Page) -> None:
    """Close the more-info dialog."""
    await page.keyboard.press("Escape")
    await (
        page.locator("ha-more-info-dialog")
        .get_by_role("dialog")
        .wait_for(state="detached", timeout=SHORT)
    )


def reported(st: dict[str, Any]) -> float:
    """Return when a state was last reported (epoch seconds)."""
    stamp = st.get("last_reported") or st["last_updated"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


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
    elif eid.startswith("binary_sensor."):
        check(value == "off" and "OK" in text, f"{eid}: meter reading {value!r}")
    elif key == "led_status":
        check(value == "ok" and "OK" in text, f"{eid}: LED status {value!r}")
    elif key == "active_tariff":
        check(re.search(r"Tariff \d", text), f"{eid}: no tariff shown: {text!r}")
    elif key == "last_reading":
        age = time.time() - datetime.fromisoformat(value).timestamp()
        check(0 <= age < 60, f"{eid}: the last reading is {age:.0f} s old")
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
    # The active tariff is known once a register grew between two readings.
    await wait_state(
        page, TARIFF, lambda s: s["state"].startswith("tariff_"), "a tariff", 40
    )
    entries = await _entities(page)
    check(len(entries) >= 15, f"only {len(entries)} entities")
    for entry in entries:
        text = await open_more_info(page, entry["name"])
        st = await state(page, entry["entity_id"])
        _check_entity(entry, st, text, await run.sim.state())
        await page.screenshot(
            path=str(run.out / "entities" / f"{entry['entity_id']}.png")
        )
        await close_more_info(page)
    registry = await call_ws(page, {"type": "config/entity_registry/list"})
    disabled = sorted(
        e["entity_id"]
        for e in registry
        if e["platform"] == DOMAIN and e.get("disabled_by")
    )
    for entity_id in DISABLED:
        check(entity_id in disabled, f"{entity_id} not among disabled: {disabled}")
    run.notes.append(f"{len(entries)} enabled entities opened; disabled: {disabled}")
    # The tariff registers must add up to the total the meter shows.
    values = await hass_eval(
        page,
        "return Object.fromEntries(Object.entries(hass.states).filter(([k]) =>"
        " k.startsWith('sensor.wattwaechter_consumption_tariff_')"
        " || k === arg).map(([k, v]) => [k, parseFloat(v.state)]));",
        ENERGY,
    )
    tariffs = sum(v for k, v in values.items() if k != ENERGY)
    check(
        abs(tariffs - values[ENERGY]) <= ENERGY_TOLERANCE,
        f"consumption tariffs add up to {tariffs}, the total is {values[ENERGY]}",
    )
    await run.shot("entities")


def led_toggle(page: Page) -> Any:
    """Return the Status LED switch of the device page."""
    return (
        page.locator("ha-config-device-page")
        .get_by_role("switch", name=re.compile("Status LED"))
        .first
    )


async def _toggle_led(page: Page) -> None:
    """Click the Status LED switch on the device page."""
    try:
        await led_toggle(page).click(timeout=3000)
    except PlaywrightTimeoutError:
        # 2026.x draws the switch's track over its input: click where it is.
        await led_toggle(page).click(force=True)


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


async def history_requests(run: Run, since: float = 0) -> list[dict[str, Any]]:
    """Return the device's history requests (the import's) logged after ``since``."""
    return [
        e for e in await run.sim.log() if e["path"] == HISTORY and e["time"] > since
    ]


async def restart(run: Run) -> None:
    """Press Restart during the history import: HA and the import carry on after."""
    page = run.page
    deadline = time.monotonic() + 120
    while len([e for e in await history_requests(run) if e["status"] == 200]) < 2:
        check(time.monotonic() < deadline, "the history import did not start")
        await page.wait_for_timeout(500)
    done = len({e["query"] for e in await history_requests(run)})
    check(done < 28, f"the import had asked for {done} days before the restart")
    boots = (await run.sim.state())["boots"]
    pressed = time.time()
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
        lambda s: s["state"] not in ("unavailable", "unknown") and reported(s) > back,
        "a reading after the restart",
        60,
    )
    await run.shot("restart-back")
    deadline = time.monotonic() + 30
    while not (after := await history_requests(run, back)):
        if time.monotonic() > deadline:
            raise StepFailed("the history import did not go on within 30 s")
        await page.wait_for_timeout(500)
    lost = [e for e in await history_requests(run, pressed) if e["status"] != 200]
    run.notes.append(
        f"history import: restart after {done} days, {len(lost)} requests failed"
        f" during it, the next"
        f" one {after[0]['time'] - back:.1f} s after the device was back"
    )
