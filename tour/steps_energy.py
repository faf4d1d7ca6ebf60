"""Tour steps at the end of the first hour: the Energy dashboard and repairs.

Why: the reason most users add a meter reader is the Energy dashboard; its grid
source picker must offer the meter's total consumption and, once the device's
30 days are imported, the device-history statistic too. No repair should be
left open that the user did not expect.
"""

from __future__ import annotations

import re

from .runner import Run, call_ws, check
from .stack import HA_URL
from .stats import wait_import
from .steps_device import ENERGY
from .steps_setup import SHORT

IMPORT_WITHIN = 240  # s: 30 days at the background request budget, with pauses


async def _options(run: Run) -> list[str]:
    """Return the texts of the open picker's options."""
    options = run.page.get_by_role("option")
    return [" ".join((await o.inner_text()).split()) for o in await options.all()]


async def energy(run: Run) -> None:
    """Grid consumption offers the total consumption and the device history."""
    page = run.page
    statistic_id = await wait_import(page, IMPORT_WITHIN)
    await page.goto(HA_URL + "/config/energy")
    # 2025.4: "Add consumption"; 2026.x: "Add grid connection".
    add = re.compile("add consumption|add grid connection", re.I)
    await page.get_by_role("button", name=add).first.click()
    picker = page.get_by_role("button", name=re.compile("^Energy imported from grid"))
    await picker.or_(page.locator("ha-statistic-picker")).first.click()
    # The sensor, not a statistic that may also be called "Total consumption ...".
    sensor_name = re.compile(r"^(?!.*history).*Total consumption")
    option = page.get_by_role("option", name=sensor_name)
    await option.first.wait_for(timeout=SHORT)
    offered = [n for n in await _options(run) if "wattwaechter" in n.lower()]
    sensor = [n for n in offered if "Total consumption" in n and "history" not in n]
    history = [n for n in offered if "Total consumption (device history)" in n]
    check(sensor, f"no Total consumption sensor among {offered}")
    check(history, f"no device-history statistic ({statistic_id}) among {offered}")
    run.notes.append(f"grid consumption picker offers: {offered}")
    # Both in view for the screenshot: the list scrolls to the device history.
    device_history = page.get_by_role("option", name=re.compile(r"\(device history\)"))
    await device_history.first.scroll_into_view_if_needed()
    await run.shot("energy-picker")
    await option.first.click()
    await page.get_by_role("button", name=re.compile("^save$", re.I)).click()
    prefs = await call_ws(page, {"type": "energy/get_prefs"})
    check(ENERGY in str(prefs), f"grid consumption not saved: {prefs}")


async def repairs(run: Run) -> None:
    """List the repair issues a user finds under Settings after all of this."""
    page = run.page
    await page.goto(HA_URL + "/config/repairs")
    issues = await call_ws(page, {"type": "repairs/list_issues"})
    for issue in issues["issues"]:
        if issue.get("dismissed_version") is None:
            run.notes.append(
                f"repair issue: {issue['domain']}.{issue['translation_key']}"
                f" ({issue['severity']}) {issue.get('translation_placeholders') or ''}"
            )
    await run.shot("repairs")
