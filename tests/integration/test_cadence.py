"""How often the slow data is read: settings and LED only when they can have changed."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from simulator import Simulator

from .helpers import advance

SETTINGS = "/api/v1/settings"
LED = "/api/v1/system/led"
SYSTEM = "/api/v1/system/info"


def reads(sim: Simulator, path: str) -> int:
    """Return how often ``path`` was read since the log was cleared."""
    return sum(1 for r in sim.request_log if r.path == path)


async def test_settings_and_led_hourly(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """Nothing changed them: settings and LED status are read once an hour."""
    device.clear_log()
    for _ in range(59):
        await advance(hass, 60)
    assert reads(device, SETTINGS) == reads(device, LED) == 0
    assert reads(device, SYSTEM) == 11
    await advance(hass, 60)
    assert reads(device, SETTINGS) == reads(device, LED) == 1


async def test_restart_elsewhere_reads_them_again(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """A restart that did not come from HA shows in the uptime; then they are read."""
    await advance(hass, 600)  # uptime 10 min at the last system poll
    device.device.reboot()
    await advance(hass, 30)
    device.clear_log()
    await advance(hass, 300)  # the next system poll finds uptime 0 min
    assert reads(device, SYSTEM) == 1
    assert reads(device, SETTINGS) == reads(device, LED) == 1
    device.clear_log()
    await advance(hass, 300)  # uptime grows again: nothing more
    assert reads(device, SETTINGS) == reads(device, LED) == 0


async def test_firmware_change_elsewhere_reads_them_again(
    hass: HomeAssistant, entry: ConfigEntry, device: Simulator
) -> None:
    """An update installed from the web UI shows as a new firmware version."""
    device.configure(firmware="1.3.0")
    device.clear_log()
    await advance(hass, 300)
    assert reads(device, SETTINGS) == reads(device, LED) == 1
