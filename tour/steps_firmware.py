"""Tour steps of the firmware update and of the device going offline.

Why: during the update the device keeps measuring while it downloads, and only
its reboot takes it away: the power must keep updating and the LED status must
say "Firmware update" meanwhile, and the device page must show the new firmware
at once afterwards. While the device is away, its controls must be unavailable
(greyed out), not clickable into an error, and come back with it.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .runner import Run, check, deep_text, state, wait_state, wait_text
from .steps_device import (
    CONTROLS,
    ENERGY,
    LED_STATUS,
    POWER,
    UPDATE,
    close_more_info,
    led_toggle,
    open_more_info,
    reported,
)
from .steps_setup import SHORT

PROGRESS = (
    "ha-progress-bar, mwc-linear-progress, md-linear-progress, "
    "ha-md-linear-progress, ha-circular-progress, ha-spinner"
)
NEW_FIRMWARE = "1.3.0"


async def _watch_download(run: Run) -> dict[str, Any]:
    """Sample what a user sees while the device downloads; return the samples."""
    page = run.page
    device_page = page.locator("ha-config-device-page")
    seen: dict[str, Any] = {"power": {}, "led": set(), "led_shown": False}
    while (await run.sim.state())["phase"] == "ota_downloading":
        power = await state(page, POWER)
        check(
            power["state"] not in ("unavailable", "unknown"),
            f"Active power is {power['state']} while the device downloads",
        )
        seen["power"][reported(power)] = power["state"]
        seen["led"].add((await state(page, LED_STATUS))["state"])
        if not seen["led_shown"] and re.search(
            r"LED status\s+Firmware update", await deep_text(device_page)
        ):
            seen["led_shown"] = True
            # Tall, so the power and the LED status show around the dialog.
            await page.set_viewport_size({"width": 1280, "height": 1700})
            await run.shot("firmware-downloading")
            await page.set_viewport_size({"width": 1280, "height": 900})
        await page.wait_for_timeout(400)
    return seen


async def firmware(run: Run) -> None:
    """Install the offered firmware from the update dialog, watching its progress."""
    page = run.page
    await open_more_info(page, "Firmware")
    dialog = page.locator("ha-more-info-dialog")
    await dialog.get_by_role(
        "button", name=re.compile("^(update|install)$", re.I)
    ).click()
    await run.sim.wait_for("the download", lambda s: s["phase"] != "online", 15)
    await dialog.locator(PROGRESS).first.wait_for(timeout=SHORT)
    await run.shot("firmware-progress")
    seen = await _watch_download(run)
    check(
        len(seen["power"]) >= 2,
        f"Active power was not updated during the download: {seen['power']}",
    )
    check("ota_active" in seen["led"], f"LED status during the download: {seen['led']}")
    check(seen["led_shown"], "the device page never showed LED status Firmware update")
    percentages: set[Any] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st = await state(page, UPDATE)
        percentages.add(st["attributes"].get("update_percentage"))
        done = st["attributes"].get("installed_version") == NEW_FIRMWARE
        if done and st["state"] == "off":
            break
        await page.wait_for_timeout(250)
    check(done, f"not installed: {st}")
    run.notes.append(
        f"update: {len(seen['power'])} power updates while downloading; percentages"
        f" {sorted(p for p in percentages if p is not None)}"
    )
    await wait_text(dialog, NEW_FIRMWARE)
    sim = await run.sim.state()
    check(sim["firmware"] == NEW_FIRMWARE, f"the device runs {sim['firmware']}")
    await run.shot("firmware-done")
    await close_more_info(page)
    # No reload: the device info must follow the device.
    await wait_text(
        page.locator("ha-config-device-page"), f"Firmware: {NEW_FIRMWARE}", within=10
    )
    await wait_state(page, LED_STATUS, lambda s: s["state"] == "ok", "LED OK", 30)


async def _controls_usable(run: Run) -> dict[str, bool]:
    """Return whether the LED switch and the Restart button can be clicked."""
    press = (
        run.page.locator("ha-config-device-page")
        .get_by_role("button", name=re.compile("^press$", re.I))
        .first
    )
    return {
        "Status LED": await led_toggle(run.page).is_enabled(),
        "Restart": await press.is_enabled(),
    }


async def offline(run: Run) -> None:
    """Take the device offline: everything unavailable, controls greyed out; back."""
    page = run.page
    device_page = page.locator("ha-config-device-page")
    await run.sim.fault("offline", active=True)
    away = lambda s: s["state"] == "unavailable"  # noqa: E731
    await wait_state(page, ENERGY, away, "unavailable", 90)
    for entity_id in CONTROLS:
        await wait_state(page, entity_id, away, "unavailable", 15)
    usable = await _controls_usable(run)
    check(not any(usable.values()), f"controls usable while offline: {usable}")
    text = await deep_text(device_page)
    check(
        re.search(r"Firmware\s+Unavailable", text),
        f"the Firmware row does not show Unavailable: {text[:600]!r}",
    )
    await run.shot("offline")
    await run.sim.fault("offline", active=False)
    back = lambda s: s["state"] not in ("unavailable", "unknown")  # noqa: E731
    await wait_state(page, ENERGY, back, "available again", 90)
    for entity_id in CONTROLS:
        await wait_state(
            page,
            entity_id,
            lambda s: s["state"] != "unavailable",
            "available again",
            30,
        )
    usable = await _controls_usable(run)
    check(all(usable.values()), f"controls not usable after coming back: {usable}")
    await run.shot("back-online")
