"""The import_history action: what it reads, what it refuses, how it ends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wattwaechter.const import DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .driver import Driver
from .helpers import (
    IDS,
    IMPORT_ID,
    YOUNG,
    assert_rows_match_device,
    call,
    days_asked,
    history_requests,
    midnight,
    rows,
    today,
)


async def test_action_imports_15_minute_days(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """The action reads the chosen days; an end in the future means today."""
    first = today(device) - timedelta(days=2)
    await call(
        hass,
        driver,
        "import_history",
        config_entry_id=init_integration.entry_id,
        start=first,
        end=today(device) + timedelta(days=3),
    )
    assert days_asked(device) == [str(first + timedelta(days=n)) for n in range(3)]
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        assert int(found[0]["start"]) == midnight(first)
        assert_rows_match_device(device, found, index)


@pytest.mark.parametrize("simulator_config", [YOUNG])
async def test_action_on_a_partly_imported_day(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    imported: ConfigEntry,
) -> None:
    """Hours of a day that have rows stay; the newer ones are added."""
    before = await rows(hass, IMPORT_ID)
    await driver.run_for(3300)  # the next hour is over, the hourly run not due
    assert history_requests(device) == []
    await call(
        hass,
        driver,
        "import_history",
        config_entry_id=imported.entry_id,
        start=today(device),
    )
    after = await rows(hass, IMPORT_ID)
    assert days_asked(device) == [str(today(device))]
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    assert_rows_match_device(device, after, 0)


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        (-1, None, "start_in_future"),
        (5, 6, "invalid_range"),
        (730, None, "history_too_old"),
        (30, None, "daily_history_disabled"),
    ],
)
@pytest.mark.parametrize("service", ["import_history", "repair_statistics"])
async def test_days_the_device_cannot_give_are_refused(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
    service: str,
    start: int,
    end: int | None,
    key: str,
) -> None:
    """Dates outside what the device keeps: a translated error, nothing read."""
    data = {"start": today(device) - timedelta(days=start)}
    if end is not None:
        data["end"] = today(device) - timedelta(days=end)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, driver, service, config_entry_id=init_integration.entry_id, **data
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert history_requests(device) == []


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(profile="gas")])
async def test_gas_device_is_refused(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A gas or water device has no energy history to import."""
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            driver,
            "import_history",
            config_entry_id=init_integration.entry_id,
            start=today(device),
        )
    assert err.value.translation_key == "history_not_supported"
    assert err.value.translation_placeholders == {"device": "WattWaechter"}


async def test_without_recorder_nothing_is_imported(
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without the recorder: no import runs, and the actions say why."""
    await driver.run_for(2 * 3600)
    assert history_requests(device) == []
    logged = [r.getMessage() for r in caplog.get_records("setup")]
    assert any("history is not imported" in line for line in logged)
    for service in ("import_history", "repair_statistics"):
        with pytest.raises(ServiceValidationError) as err:
            await call(
                hass,
                driver,
                service,
                config_entry_id=init_integration.entry_id,
                start=today(device),
            )
        assert err.value.translation_key == "recorder_missing"


async def test_unknown_and_unloaded_entries_are_refused(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """An ID that is no loaded WattWächter entry is refused."""
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    for entry_id in ("not-an-entry", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await call(
                hass,
                driver,
                "import_history",
                config_entry_id=entry_id,
                start=today(device),
            )
        assert err.value.translation_key in {
            "unknown_entry",  # our own check, on HA without the helper
            "service_config_entry_not_found",
            "service_config_entry_wrong_domain",
        }
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            driver,
            "import_history",
            config_entry_id=init_integration.entry_id,
            start=today(device),
        )
    assert err.value.translation_key in {
        "entry_not_loaded",
        "service_config_entry_not_loaded",
    }


async def test_device_away_is_refused_at_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """While the device does not answer, the action fails rather than wait."""
    device.set_fault(FaultMode.OFFLINE)
    await driver.run_until(
        lambda: not init_integration.runtime_data.meter.last_update_success
    )
    began = hass.loop.time()
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            driver,
            "import_history",
            config_entry_id=init_integration.entry_id,
            start=today(device),
        )
    assert err.value.translation_key == "history_device_away"
    assert hass.loop.time() - began < 1
    assert history_requests(device) == []


@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(missing_endpoints=("/history/highRes",))]
)
async def test_firmware_without_history_fails_the_action(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A 404 to the history makes the action fail with a translated error."""
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            driver,
            "import_history",
            config_entry_id=init_integration.entry_id,
            start=today(device),
        )
    assert err.value.translation_key == "not_supported"


async def test_another_device_fails_the_action(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Another device at the address: the action reads none of its history."""
    device.configure(other_device=True)
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            driver,
            "import_history",
            config_entry_id=init_integration.entry_id,
            start=today(device),
        )
    assert err.value.translation_key == "history_other_device"
    assert history_requests(device) == []
    assert await rows(hass, IMPORT_ID) == []


async def test_unload_ends_the_action(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """Unloading the entry stops a running import; the action says so."""
    task = asyncio.ensure_future(
        call(
            hass,
            driver,
            "import_history",
            config_entry_id=init_integration.entry_id,
            start=today(device) - timedelta(days=20),
        )
    )
    await driver.run_until(lambda: len(days_asked(device)) >= 2)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    asked = len(days_asked(device))
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "history_cancelled"
    await driver.run_for(600)
    assert len(days_asked(device)) == asked < 21


async def test_caller_leaving_does_not_stop_the_import(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A caller that gives up does not stop the import it started."""
    first = today(device) - timedelta(days=9)
    task = asyncio.ensure_future(
        hass.services.async_call(
            DOMAIN,
            "import_history",
            {"config_entry_id": init_integration.entry_id, "start": str(first)},
            blocking=True,
        )
    )
    await driver.run_until(lambda: bool(days_asked(device)))
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await driver.run_until(lambda: len(days_asked(device)) == 10)
    await driver.run_for(10)
    assert days_asked(device) == [str(first + timedelta(days=n)) for n in range(10)]
    assert_rows_match_device(device, await rows(hass, IMPORT_ID), 0)
