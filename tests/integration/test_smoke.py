"""Smoke test while rewriting."""

from homeassistant.core import HomeAssistant

from simulator import FaultMode, Simulator

from .timetravel import advance


def st(hass):
    return {s.entity_id.split(".")[1].replace("wattwaechter_", ""): s.state for s in hass.states.async_all()}


async def test_setup(hass: HomeAssistant, init_integration, device: Simulator) -> None:
    device.clear_log()
    device.set_fault(FaultMode.OFFLINE)
    await advance(hass, 10)
    print("OFFLINE", st(hass))
    device.clear_faults()
    await advance(hass, 10)
    print("BACK", st(hass))
    print([(r.method, r.path, r.status) for r in device.request_log])
    device.clear_log()
    await hass.services.async_call("switch", "turn_off", {"entity_id": "switch.wattwaechter_status_led"}, blocking=True)
    print("LED", st(hass)["status_led"], device.state.settings["ledEnable"])
    await advance(hass, 10)
    await hass.services.async_call("button", "press", {"entity_id": "button.wattwaechter_restart"}, blocking=True)
    for _ in range(4):
        await advance(hass, 5)
        print("REBOOT", st(hass)["active_power"], st(hass)["uptime"] if "uptime" in st(hass) else None)
    print([(r.method, r.path, r.status) for r in device.request_log])
    device.clear_log()
    await advance(hass, 20)
    task = hass.async_create_task(hass.services.async_call("update", "install", {"entity_id": "update.wattwaechter_firmware"}, blocking=True))
    for _ in range(10):
        await advance(hass, 5)
        s = hass.states.get("update.wattwaechter_firmware")
        print("OTA", s.state, s.attributes.get("in_progress"), s.attributes.get("update_percentage"), s.attributes.get("installed_version"), st(hass)["led_status"], st(hass)["active_power"])
    await task
    print([(r.method, r.path, r.status) for r in device.request_log])
