"""Tour steps at the end of the first hour: the Energy dashboard and repairs.

Why: the reason most users add a meter reader is the Energy dashboard; its grid
source picker must offer the meter's import, and no repair should be left open
that the user did not expect.
"""

from __future__ import annotations

import re

from .runner import Run, check, hass_eval
from .stack import HA_URL
from .steps_device import ENERGY
from .steps_setup import SHORT


async def energy(run: Run) -> None:
    """Grid consumption in the Energy configuration offers the import sensor."""
    page = run.page
    await page.goto(HA_URL + "/config/energy")
    # 2025.4: "Add consumption"; 2026.x: "Add grid connection".
    add = re.compile("add consumption|add grid connection", re.I)
    await page.get_by_role("button", name=add).first.click()
    picker = page.get_by_role("button", name=re.compile("^Energy imported from grid"))
    await picker.or_(page.locator("ha-statistic-picker")).first.click()
    option = page.get_by_role("option", name=re.compile(r"Energy import(?! tariff)"))
    await option.first.wait_for(timeout=SHORT)
    offered = [" ".join((await o.inner_text()).split()) for o in await option.all()]
    check(
        any("wattwaechter" in n.lower() for n in offered),
        f"no WattWächter energy import among {offered}",
    )
    every = page.get_by_role("option")
    names = [" ".join((await o.inner_text()).split()) for o in await every.all()]
    ours = [n for n in names if "wattwaechter" in n.lower()]
    run.notes.append(f"grid import picker offers: {ours}")
    ids = await hass_eval(
        page,
        "return hass.callWS({type: 'recorder/list_statistic_ids',"
        " statistic_type: 'sum'});",
    )
    external = [i["statistic_id"] for i in ids if ":" in i["statistic_id"]]
    run.notes.append(f"device-history statistics in the recorder: {external}")
    await run.shot("energy-picker")
    await option.first.click()
    await page.get_by_role("button", name=re.compile("^save$", re.I)).click()
    prefs = await hass_eval(page, "return hass.callWS({type: 'energy/get_prefs'});")
    check(ENERGY in str(prefs), f"grid import not saved: {prefs}")


async def repairs(run: Run) -> None:
    """List the repair issues a user finds under Settings after all of this."""
    page = run.page
    await page.goto(HA_URL + "/config/repairs")
    issues = await hass_eval(page, "return hass.callWS({type: 'repairs/list_issues'});")
    for issue in issues["issues"]:
        if issue.get("dismissed_version") is None:
            run.notes.append(
                f"repair issue: {issue['domain']}.{issue['translation_key']}"
                f" ({issue['severity']}) {issue.get('translation_placeholders') or ''}"
            )
    await run.shot("repairs")
