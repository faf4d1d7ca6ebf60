"""Tour steps of the first minutes: onboarding, the discovered device, adding it.

Why: this is where a new user meets the integration first: discovery over mDNS
has to have found the simulator before the user gets to Devices & services, and
adding it must take one confirmation. A user who then adds it once more by hand,
typing a host name, must be told plainly that it is set up already.
"""

from __future__ import annotations

import re

from playwright.async_api import Page

from .runner import Run, call_ws, check, click_to, deep_text, hass_eval, wait_text
from .stack import HA_URL, SIM_PORT

USER = ("Tour User", "tour", "tour-password-1")
DOMAIN = "wattwaechter"
SHORT = 15_000  # ms: how long a UI element may take to appear


def _label(text: str) -> re.Pattern[str]:
    """Match a form label with or without the required-field star (2026.x)."""
    return re.compile(rf"^{re.escape(text)}\*?$")


async def onboarding(run: Run) -> None:
    """Create the owner account and go through every onboarding step."""
    page = run.page
    await page.goto(HA_URL + "/")
    await page.get_by_role(
        "button", name=re.compile("create my smart home", re.I)
    ).click()
    name, username, password = USER
    fields = {
        "Name": name,
        "Username": username,
        "Password": password,
        "Confirm password": password,
    }
    # 2025.4 re-renders the form while it derives the username from the name, so
    # a value can land in the wrong field: fill until every field holds its own.
    for _ in range(3):
        wrong = 0
        for label, value in fields.items():
            box = page.get_by_role("textbox", name=_label(label))
            if await box.input_value() != value:
                wrong += 1
                await box.fill(value)
        if not wrong:
            break
    await run.shot("onboarding-user")
    await page.get_by_role("button", name=re.compile("create account", re.I)).click()
    # Home location (the map has no tiles offline), then the country.
    await page.get_by_role("button", name=re.compile("^next$", re.I)).click()
    country = page.get_by_label("Country")
    await country.or_(
        page.get_by_role("button", name=re.compile("^Country"))
    ).first.click()
    search = page.get_by_role("dialog", name="Country").get_by_role("textbox")
    if await search.count():  # 2026.x: a searchable picker
        await search.fill("Germany")
    await page.get_by_role("option", name=re.compile("^Germany")).first.click()
    await page.get_by_role("button", name=re.compile("^next$", re.I)).click()
    # Analytics: leave everything off.
    await page.get_by_text("Help us help you").wait_for(timeout=SHORT)
    await page.get_by_role("button", name=re.compile("^next$", re.I)).click()
    finish = page.get_by_role("button", name=re.compile("^finish$", re.I))
    await finish.wait_for(timeout=SHORT)
    found = page.get_by_text("WattWächter", exact=True)
    await found.first.wait_for(timeout=SHORT)
    await run.shot("onboarding-found")
    await finish.click()
    await page.wait_for_function(
        "() => document.querySelector('home-assistant')?.hass?.user?.is_owner",
        timeout=30_000,
    )


async def discovered(run: Run) -> None:
    """Go to Settings -> Devices & services: the WattWächter waits under Discovered."""
    page = run.page
    settings = page.get_by_role("link", name="Settings")
    settings = settings.or_(page.get_by_role("option", name="Settings")).first
    await click_to(page, settings, "/config/dashboard")
    services = page.get_by_text("Devices & services", exact=True).first
    await click_to(page, services, "/config/integrations/")
    await page.get_by_text("Discovered", exact=True).wait_for(timeout=SHORT)
    card = page.locator("ha-config-flow-card").filter(has_text="WattWaechter")
    await card.first.wait_for(timeout=SHORT)
    text = await deep_text(card)
    check("WattWächter" in text, f"discovered card names no WattWächter: {text!r}")
    await run.shot("discovered")


async def add(run: Run) -> None:
    """Add the discovered device: confirm, then the success dialog."""
    page = run.page
    card = page.locator("ha-config-flow-card").filter(has_text="WattWaechter")
    await card.get_by_role("button", name=re.compile("^add$", re.I)).click()
    dialog = page.locator("dialog-data-entry-flow")
    await dialog.get_by_text("WattWächter found").wait_for(timeout=SHORT)
    await wait_text(dialog, "firmware 1.2.3", f"127.0.0.1:{SIM_PORT}")
    await run.shot("add-confirm")
    await dialog.get_by_role("button", name=re.compile("^submit$", re.I)).click()
    # 2025.4: "Success!"; 2026.x: "Name and assign".
    done = page.get_by_text(re.compile("Success!|Name and assign"))
    await done.first.wait_for(timeout=30_000)
    await wait_text(page.locator("body"), "WattWächter Plus")
    await run.shot("add-success")
    finish = re.compile("^(skip and )?finish$", re.I)
    await page.get_by_role("button", name=finish).click()
    entries = await hass_eval(
        page,
        "return hass.callWS({type: 'config_entries/get', domain: arg});",
        DOMAIN,
    )
    check(len(entries) == 1, f"expected one config entry, got {entries!r}")
    check(entries[0]["state"] == "loaded", f"entry not loaded: {entries[0]!r}")
    await page.get_by_text("Discovered", exact=True).wait_for(
        state="detached", timeout=SHORT
    )


async def add_by_host(run: Run) -> None:
    """Add the device again by hand, by host name: "already set up", no error."""
    page = run.page
    await page.goto(HA_URL + "/config/integrations/dashboard")
    add_button = page.get_by_role("button", name=re.compile("add integration", re.I))
    await add_button.first.click()
    brands = page.locator("dialog-add-integration")
    await brands.get_by_text("1-Wire").first.wait_for(timeout=SHORT)
    search = brands.get_by_role("textbox")
    if await search.count():
        await search.first.fill("WattW")
    else:  # 2026.x: the list takes the keys itself
        await page.keyboard.type("WattW")
    await brands.get_by_text("WattWächter", exact=True).first.click()
    dialog = page.locator("dialog-data-entry-flow")
    await wait_text(dialog, "Add a WattWächter", "host name")
    host = f"localhost:{SIM_PORT}"
    await dialog.get_by_role("textbox").first.fill(host)
    await run.shot("add-host")
    await dialog.get_by_role("button", name=re.compile("^submit$", re.I)).click()
    text = await wait_text(dialog, "already set up", within=20)
    for bad in ("Unknown error", "Unexpected error", "Error"):
        check(bad not in text, f"the second add shows {bad!r}: {text!r}")
    await run.shot("add-host-answer")
    run.notes.append(f"adding it again as {host}: {text}")
    await dialog.get_by_role("button", name=re.compile("^close$", re.I)).last.click()
    for _ in range(80):  # an address change reloads the entry
        entries = await call_ws(page, {"type": "config_entries/get", "domain": DOMAIN})
        if entries[0]["state"] == "loaded":
            break
        await page.wait_for_timeout(250)
    check(len(entries) == 1, f"a second entry was made: {entries!r}")
    check(entries[0]["state"] == "loaded", f"entry not loaded: {entries[0]!r}")


async def device_id(page: Page) -> str:
    """Return the device registry id of the (only) WattWächter."""
    found = await hass_eval(
        page,
        "return Object.values(hass.entities).filter(e => e.platform === arg)"
        ".map(e => e.device_id);",
        DOMAIN,
    )
    check(found, "no entity of the integration")
    return str(found[0])


async def device_page(run: Run) -> None:
    """Open the device from the integration's page; check the device info."""
    page = run.page
    card = page.get_by_text("WattWächter", exact=True).first
    await click_to(page, card, f"/integrations/integration/{DOMAIN}")
    device = page.get_by_role("link", name=re.compile(r"^1 device$")).first
    await click_to(page, device, "/config/devices/device/")
    await page.get_by_text("Device info").wait_for(timeout=SHORT)
    await wait_text(
        page.locator("ha-config-device-page"),
        "WattWächter Plus",
        "SmartCircuits",
        "1.2.3",
        "AA:BB:CC:DD:EE:FF",
    )
    await page.set_viewport_size({"width": 1280, "height": 1700})
    await run.shot("device-page", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
