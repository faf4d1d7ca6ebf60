"""The automatic import of the device's history into external statistics."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.wattwaechter.compat import UNIT_CLASS_IN_METADATA
from custom_components.wattwaechter.const import DOMAIN
from simulator import Simulator

from .driver import Driver
from .helpers import (
    EXPORT_ID,
    HIGH_RES,
    IDS,
    IMPORT_ID,
    assert_rows_match_device,
    days_asked,
    energy,
    history_requests,
    last_closed_hour,
    metadata,
    midnight,
    rows,
    today,
    wh,
)


async def test_first_setup_imports_30_days(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    device: Simulator,
    driver: Driver,
    init_integration: ConfigEntry,
) -> None:
    """A minute after start the last 30 days arrive as hourly rows, exact to the Wh."""
    importer = init_integration.runtime_data.history
    began = hass.loop.time()
    await driver.run_for(59)
    assert history_requests(device) == []
    await driver.run_until(lambda: bool(history_requests(device)))
    assert 60 <= hass.loop.time() - began < 61
    await driver.run_until(lambda: not importer.running)

    oldest = today(device) - timedelta(days=29)
    assert days_asked(device) == [str(oldest + timedelta(days=n)) for n in range(30)]
    assert {r.status for r in history_requests(device)} == {200}
    for statistic_id, index in IDS:
        found = await rows(hass, statistic_id)
        assert int(found[0]["start"]) == midnight(oldest)
        assert int(found[-1]["start"]) == last_closed_hour(device)
        assert_rows_match_device(device, found, index)
        # The sum starts with the first hour's own energy.
        first = midnight(oldest)
        assert wh(found[0]["sum"]) == energy(device, first, first + 3600, index)

    meta = await metadata(hass, IMPORT_ID)
    assert meta is not None
    assert meta["has_sum"] is True
    assert meta["mean_type"] is StatisticMeanType.NONE
    assert meta["source"] == DOMAIN
    assert meta["unit_of_measurement"] == "kWh"
    assert meta["name"] == "WattWaechter energy import (device history)"
    if UNIT_CLASS_IN_METADATA:
        assert meta["unit_class"] == "energy"
    else:
        assert "unit_class" not in meta
    export = await metadata(hass, EXPORT_ID)
    assert export is not None
    assert export["name"] == "WattWaechter energy export (device history)"
    assert HIGH_RES
