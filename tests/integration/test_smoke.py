"""Smoke test while rewriting."""

from homeassistant.core import HomeAssistant

from simulator import Simulator

from .timetravel import advance


async def test_setup(hass: HomeAssistant, init_integration, device: Simulator) -> None:
    states = {s.entity_id: s.state for s in hass.states.async_all()}
    print(states)
    await advance(hass, 10)
    print([ (r.method, r.path, r.status) for r in device.request_log])
    assert states
