"""Helpers of the firmware install tests: start it, move time while it runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import time
from typing import Any

from homeassistant.components.update import (
    ATTR_IN_PROGRESS,
    ATTR_UPDATE_PERCENTAGE,
    DOMAIN as UPDATE,
    SERVICE_INSTALL,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .entities import entity_id, state
from .timetravel import TIME_TRAVEL_KEY


def firmware(hass: HomeAssistant, entry: ConfigEntry) -> State:
    """Return the update entity's state (unique ID = the bare device ID)."""
    return state(hass, entry, "", UPDATE)


async def start_install(hass: HomeAssistant, entry: ConfigEntry) -> asyncio.Task[Any]:
    """Call update.install in the background; return once the device answered.

    (The install shows progress, or it failed at once.)
    """
    update = entity_id(hass, entry, "", UPDATE)
    started = asyncio.Event()

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) and new.attributes.get(ATTR_IN_PROGRESS):
            started.set()

    unsubscribe = async_track_state_change_event(hass, [update], changed)
    task = asyncio.create_task(
        hass.services.async_call(
            UPDATE, SERVICE_INSTALL, {ATTR_ENTITY_ID: update}, blocking=True
        )
    )
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    unsubscribe()
    return task


def _install(task: asyncio.Future[Any]) -> bool:
    """Return True for the task that runs our install (HA wraps it variously)."""
    coro: Any = task.get_coro()  # type: ignore[union-attr]
    while coro is not None:
        if getattr(coro, "__name__", "") in ("async_install", "_async_install"):
            return True
        coro = getattr(coro, "cr_await", None)
    return False


async def step(hass: HomeAssistant, seconds: float) -> None:
    """Move the clocks and run what became due, as advance() does.

    HA runs an entity's service call as a task of its own; advance()'s
    ``async_block_till_done`` would wait for the whole install (in real
    time), so this waits for every other task only.
    """
    hass.data[TIME_TRAVEL_KEY].tick(seconds)
    async_fire_time_changed(hass, datetime.fromtimestamp(time.time(), UTC))
    for _ in range(100):
        await asyncio.sleep(0)
        tasks = hass._tasks | hass._background_tasks
        if not (others := [t for t in tasks if not t.done() and not _install(t)]):
            return
        await asyncio.wait(others)


async def drive(hass: HomeAssistant, task: asyncio.Task[Any], limit: int = 20) -> None:
    """Move time in 5 s steps until the install ends."""
    for _ in range(limit):
        if task.done():
            return
        await step(hass, 5)
    assert task.done(), "the install did not end"


def percentages(states: list[State]) -> list[float]:
    """Return the distinct percentages the entity showed, in order."""
    shown = [p for s in states if (p := s.attributes.get(ATTR_UPDATE_PERCENTAGE))]
    return [p for i, p in enumerate(shown) if i == 0 or p != shown[i - 1]]


def assert_clean(current: State) -> None:
    """No install left behind."""
    assert current.attributes[ATTR_IN_PROGRESS] is False
    assert current.attributes[ATTR_UPDATE_PERCENTAGE] is None
