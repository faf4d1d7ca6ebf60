"""Firmware install: progress from what the device shows, and its failures."""

from __future__ import annotations

import asyncio

from homeassistant.components.update import (
    ATTR_INSTALLED_VERSION,
    DOMAIN as UPDATE,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_TOKEN,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest

from custom_components.wattwaechter.const import CONF_WRITE_TOKEN, DOMAIN
from simulator import FaultMode, Simulator, SimulatorConfig

from .conftest import READ
from .entities import (
    INTERVAL,
    LED,
    entity_id,
    issue,
    paths,
    record,
)
from .install import (
    assert_clean,
    drive,
    firmware,
    percentages,
    start_install,
    step,
)
from .timetravel import advance


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(ota_download_seconds=40)])
async def test_full_install(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Started, downloading, rebooting, back, verified: never going down.

    While it downloads, the meter entities keep updating and the LED status
    says so; only the reboot makes them unavailable.
    """
    entry = init_integration
    ids = [entity_id(hass, entry, key) for key in ("16.7.0", "led_status")]
    update = entity_id(hass, entry, "", UPDATE)
    seen = record(hass, [update, *ids])
    task = await start_install(hass, entry)
    await drive(hass, task)
    await task

    shown = percentages(seen[entity_id(hass, entry, "", UPDATE)])
    assert STATE_UNAVAILABLE not in [s.state for s in seen[update]]
    assert shown == sorted(shown)
    assert shown[0] == 5
    assert shown[-3:] == [70, 90, 100]
    assert 25 <= min(shown[1:-3]) <= max(shown[1:-3]) <= 60
    final = firmware(hass, entry)
    assert_clean(final)
    assert final.state == STATE_OFF
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.3.0"
    assert device.state.firmware == "1.3.0"

    power = [s.state for s in seen[ids[0]]]
    assert "ota_active" in [s.state for s in seen[ids[1]]]
    gone = power.index(STATE_UNAVAILABLE)
    assert len(set(power[:gone])) >= 2  # fresh values while downloading
    assert power[-1] != STATE_UNAVAILABLE
    device.clear_log()
    await advance(hass, INTERVAL)
    assert paths(device) == ["/history/latest"]


@pytest.mark.parametrize("simulator_config", [SimulatorConfig(ota_fail=True)])
async def test_install_comes_back_on_the_old_version(
    hass: HomeAssistant, init_integration: ConfigEntry
) -> None:
    """The device reboots into the old firmware: a clear error naming it."""
    entry = init_integration
    seen = record(hass, [entity_id(hass, entry, "", UPDATE)])
    task = await start_install(hass, entry)
    await drive(hass, task)
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "ota_old_version"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["version"] == "1.2.3"
    assert err.value.translation_placeholders["target"] == "1.3.0"
    assert percentages(seen[entity_id(hass, entry, "", UPDATE)])[-1] == 90
    assert STATE_UNAVAILABLE not in [
        s.state for s in seen[entity_id(hass, entry, "", UPDATE)]
    ]
    final = firmware(hass, entry)
    assert_clean(final)
    assert final.state == STATE_ON
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.2.3"


async def test_install_not_back_in_time(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Away for good: the install gives up after 10 minutes."""
    entry = init_integration
    task = await start_install(hass, entry)
    await step(hass, 5)
    device.set_fault(FaultMode.OFFLINE)
    for _ in range(20):
        await step(hass, 30)
    assert task.done()
    with pytest.raises(HomeAssistantError) as err:
        await task
    assert err.value.translation_key == "ota_timeout"
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["minutes"] == "10"
    assert err.value.translation_placeholders["version"] == "1.2.3"
    assert firmware(hass, entry).state == STATE_UNAVAILABLE
    # Behind the outage the device finished the update after all.
    device.clear_faults()
    await advance(hass, INTERVAL)
    final = firmware(hass, entry)
    assert_clean(final)
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.3.0"
    assert final.state == STATE_OFF


async def test_install_rejected(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """The device does not start the update (its offer is gone meanwhile)."""
    device.configure(ota_version="1.2.3")
    with pytest.raises(HomeAssistantError) as err:
        await (await start_install(hass, init_integration))
    assert err.value.translation_key == "ota_rejected"
    assert_clean(firmware(hass, init_integration))


@pytest.mark.parametrize(
    ("simulator_config", "tokens"),
    [(SimulatorConfig(auth_required=True), {CONF_TOKEN: READ, CONF_WRITE_TOKEN: None})],
)
async def test_install_with_read_token(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """403 on /ota/start: write-token error and repair, clean state."""
    with pytest.raises(HomeAssistantError) as err:
        await (await start_install(hass, init_integration))
    assert err.value.translation_key == "write_token_required"
    assert issue(hass, "write_token_required", init_integration) is not None
    assert_clean(firmware(hass, init_integration))
    assert device.state.firmware == "1.2.3"


async def test_busy_device_during_install(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """A 429 or 500 on the LED while downloading is no failure."""
    device.set_fault(FaultMode.RATE_LIMIT_429, paths=[LED], count=1)
    device.set_fault(FaultMode.HTTP_500, paths=[LED], count=1)
    task = await start_install(hass, init_integration)
    await drive(hass, task, limit=40)
    await task
    assert firmware(hass, init_integration).attributes[ATTR_INSTALLED_VERSION] == (
        "1.3.0"
    )


@pytest.mark.parametrize(
    ("simulator_config", "ok"),
    [
        (SimulatorConfig(reboot_seconds=0.0), True),
        (SimulatorConfig(reboot_seconds=0.0, ota_fail=True), False),
    ],
)
async def test_reboot_faster_than_a_poll(
    hass: HomeAssistant, init_integration: ConfigEntry, ok: bool
) -> None:
    """No meter update ever misses the device; the version still decides."""
    task = await start_install(hass, init_integration)
    await drive(hass, task, limit=80)
    if ok:
        await task
        assert firmware(hass, init_integration).attributes[ATTR_INSTALLED_VERSION] == (
            "1.3.0"
        )
    else:
        with pytest.raises(HomeAssistantError) as err:
            await task
        assert err.value.translation_key == "ota_old_version"
    assert_clean(firmware(hass, init_integration))


async def test_firmware_without_ota_led(
    hass: HomeAssistant,
    init_integration: ConfigEntry,
    device: Simulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No OTA_ACTIVE on the LED: no download steps, the rest as usual."""
    original = device.device.led
    monkeypatch.setattr(device.device, "led", lambda: {**original(), "status": "OK"})
    seen = record(hass, [entity_id(hass, init_integration, "", UPDATE)])
    task = await start_install(hass, init_integration)
    await drive(hass, task)
    await task
    shown = percentages(seen[entity_id(hass, init_integration, "", UPDATE)])
    assert shown == [5, 70, 90, 100]
    assert firmware(hass, init_integration).attributes[ATTR_INSTALLED_VERSION] == (
        "1.3.0"
    )


async def test_install_cancelled(
    hass: HomeAssistant, init_integration: ConfigEntry, device: Simulator
) -> None:
    """Cancelling leaves no progress behind; the device finishes by itself."""
    task = await start_install(hass, init_integration)
    await step(hass, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(8):
        await step(hass, 5)
    final = firmware(hass, init_integration)
    assert_clean(final)
    assert final.attributes[ATTR_INSTALLED_VERSION] == "1.3.0"
    assert final.state == STATE_OFF
