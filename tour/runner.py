"""Steps with timing and screenshots, and helpers to read HA's shadow-DOM frontend.

Why: every step of the tour must say how long it took, leave a screenshot and
fail loudly; HA's frontend is web components all the way down, so checks read
the text a user sees through every shadow root, and read states from the page's
own ``hass`` object rather than from a second API client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
import re
import time
import traceback
from typing import Any

from playwright.async_api import Locator, Page

# Visible text of an element and every shadow root below it, in document order.
_DEEP_TEXT_JS = """(root) => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== 11) return;
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (['STYLE', 'SCRIPT', 'TEMPLATE'].includes(node.tagName)) return;
      if (node.shadowRoot) walk(node.shadowRoot);
    }
    for (const child of node.childNodes) walk(child);
  };
  walk(root);
  return out.join(' ').replace(/\\s+/g, ' ').trim();
}"""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class StepFailed(AssertionError):
    """A check of the tour failed."""


def check(condition: object, message: str) -> None:
    """Fail the current step with ``message`` unless ``condition`` holds."""
    if not condition:
        raise StepFailed(message)


async def deep_text(locator: Locator) -> str:
    """Return the text a user sees in ``locator``, shadow roots included."""
    return str(await locator.first.evaluate(_DEEP_TEXT_JS))


async def wait_text(locator: Locator, *texts: str, within: float = 15) -> str:
    """Wait until ``locator`` shows every one of ``texts``; return its text."""
    deadline = time.monotonic() + within
    while True:
        text = await deep_text(locator)
        if all(t in text for t in texts):
            return text
        if time.monotonic() > deadline:
            raise StepFailed(f"{texts} not shown within {within:.0f} s: {text[:400]!r}")
        await asyncio.sleep(0.2)


async def wait_url(page: Page, fragment: str, within: float = 15) -> None:
    """Wait until the page's URL contains ``fragment`` (the frontend routes itself)."""
    deadline = time.monotonic() + within
    while fragment not in page.url:
        if time.monotonic() > deadline:
            raise StepFailed(f"page {page.url} did not go to {fragment!r}")
        await asyncio.sleep(0.1)


async def click_to(page: Page, locator: Locator, fragment: str) -> None:
    """Click a link until the page routes to ``fragment``.

    A click while the frontend is still wiring up its sidebar can be lost.
    """
    for _ in range(3):
        await locator.click()
        with contextlib.suppress(StepFailed):
            await wait_url(page, fragment, within=5)
            return
    raise StepFailed(f"clicking {locator} never led to {fragment!r}")


async def hass_eval(page: Page, body: str, arg: Any = None) -> Any:
    """Evaluate ``body`` (JS, sees ``hass`` and ``arg``) against the page's hass."""
    hass = "document.querySelector('home-assistant').hass"
    # After a page load the app needs a moment before it has a connection.
    await page.wait_for_function(f"() => {hass.replace('.hass', '?.hass')}?.connection")
    script = f"(arg) => {{ const hass = {hass}; {body} }}"
    return await page.evaluate(script, arg)


async def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send one websocket command through the page's own connection."""
    return await hass_eval(page, "return hass.callWS(arg);", message)


async def state(page: Page, entity_id: str) -> dict[str, Any]:
    """Return an entity's state object as the frontend has it."""
    found = await hass_eval(page, "return hass.states[arg] || null;", entity_id)
    check(found is not None, f"{entity_id} does not exist")
    return dict(found)


async def wait_state(
    page: Page,
    entity_id: str,
    predicate: Callable[[dict[str, Any]], bool],
    what: str,
    within: float,
) -> dict[str, Any]:
    """Poll the frontend's state of ``entity_id`` until ``predicate`` holds."""
    deadline = time.monotonic() + within
    while True:
        current = await state(page, entity_id)
        if predicate(current):
            return current
        if time.monotonic() > deadline:
            raise StepFailed(
                f"{entity_id}: {what} not seen in {within:.0f} s "
                f"(state {current['state']!r})"
            )
        await asyncio.sleep(0.25)


def number(text: str, unit: str) -> float:
    """Return the first number shown with ``unit`` in ``text`` (1,234.5 style)."""
    found = re.search(r"(-?[\d,]+(?:\.\d+)?)\s*" + re.escape(unit) + r"\b", text)
    check(found, f"no value in {unit} in {text[:200]!r}")
    assert found is not None
    return float(found.group(1).replace(",", ""))


@dataclass
class Result:
    """What one step did: name, seconds, error (None = passed)."""

    name: str
    seconds: float
    error: str | None = None


@dataclass
class Run:
    """One tour of one HA version: the page, the output folder, the results."""

    page: Page
    out: Path
    label: str
    sim: Any
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    async def shot(self, name: str, *, full_page: bool = False) -> None:
        """Save a screenshot as ``<out>/<nn>-<name>.png``."""
        path = self.out / f"{len(self.results) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page)

    async def step(self, name: str, action: Callable[[], Awaitable[None]]) -> bool:
        """Run one step; print and record its time; screenshot a failure."""
        start = time.monotonic()
        error = None
        try:
            await action()
        except Exception as err:  # a failed step of any kind
            error = f"{type(err).__name__}: {err}"
            (self.out / f"{name}-error.txt").write_text(traceback.format_exc())
            with contextlib.suppress(Exception):  # the page itself may be gone
                await self.shot(f"{name}-FAILED")
        seconds = time.monotonic() - start
        self.results.append(Result(name, seconds, error))
        status = "ok  " if error is None else "FAIL"
        print(
            f"[{self.label}] {status} {name:<22} {seconds:6.1f} s"
            + (f"  {error}" if error else ""),
            flush=True,
        )
        return error is None
