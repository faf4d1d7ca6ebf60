"""Record what HA core's own wattwaechter integration makes of golden payloads.

Runs inside the Python 3.14 root with homeassistant==2026.11.0 (see the
scripts/core_entities wrapper). For each device of
tests/fixtures/golden/devices.json it starts a bare Home Assistant in a temp
config dir, adds the device through core's real user config flow, enables
every entity, reloads, and writes entities, device, config entry, diagnostics
and the requests core made to tests/fixtures/core_2026_11/<device>.json.
The vendor's client is kept; only its one HTTP method is replaced by a lookup
in the golden payloads, so the vendor's own models parse them.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterator
import contextlib
import json
import logging
from pathlib import Path
import sys
import tempfile
from typing import Any
from unittest.mock import patch

from aio_wattwaechter import WattwaechterConnectionError
from aio_wattwaechter.client import Wattwaechter
from core_ref_dump import config_entry, devices, entities, plain
from homeassistant import bootstrap, config_entries, loader
from homeassistant.components.wattwaechter import diagnostics
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

DOMAIN = "wattwaechter"
# Core only stores the host; no request ever leaves the process (see Device).
HOST = "127.0.0.1"


class Device:
    """Serves golden payloads by API path and logs what core asked for.

    An endpoint with no payload answers like an unreachable device
    (connection error); a null payload answers like HTTP 204 (empty body).
    /history/latest may list payloads: each refresh after the first takes
    the next one.
    """

    def __init__(self, golden: Path, endpoints: dict[str, Any]) -> None:
        """Load the payload files named in the device definition."""

        def load(name: str | None) -> Any:
            return None if name is None else json.loads((golden / name).read_text())

        self.payloads: dict[str, Any] = {}
        self.history: list[Any] = []
        for path, name in endpoints.items():
            if path == "/history/latest":
                names = name if isinstance(name, list) else [name]
                self.history = [load(item) for item in names]
            else:
                self.payloads[path] = load(name)
        self.poll = 0
        self.phase = "start"
        self.requests: dict[str, list[str]] = {}

    def next_meter_payload(self) -> bool:
        """Serve the next /history/latest payload; False when none is left."""
        if self.poll + 1 >= len(self.history):
            return False
        self.poll += 1
        return True

    async def request(self, method: str, path: str) -> dict[str, Any]:
        """Answer one request of the vendor's client."""
        self.requests.setdefault(self.phase, []).append(f"{method} {path}")
        if path == "/history/latest" and self.history:
            payload = self.history[self.poll]
        elif path in self.payloads:
            payload = self.payloads[path]
        else:
            raise WattwaechterConnectionError(f"no golden payload for {path}")
        return {} if payload is None else payload


@contextlib.contextmanager
def serve(device: Device) -> Iterator[None]:
    """Route the vendor client's requests to the device; block real HTTP.

    Core's shared aiohttp session is not created either: its DNS resolver
    would start zeroconf (mDNS on the network), and the client never uses it.
    """

    async def fake_request(
        client: Wattwaechter, method: str, path: str, **_: Any
    ) -> dict[str, Any]:
        return await device.request(method, path)

    async def no_http(*_: Any, **__: Any) -> Any:
        raise AssertionError("the golden run must not send HTTP requests")

    def no_session(*_: Any, **__: Any) -> None:
        return None

    component = "homeassistant.components.wattwaechter"
    with (
        patch.object(Wattwaechter, "_request", fake_request),
        patch.object(Wattwaechter, "_do_request", no_http),
        patch(f"{component}.async_get_clientsession", no_session),
        patch(f"{component}.config_flow.async_get_clientsession", no_session),
    ):
        yield


async def start_hass(config_dir: str) -> HomeAssistant:
    """Start a Home Assistant with registries and config entries, nothing else."""
    hass = HomeAssistant(config_dir)
    loader.async_setup(hass)
    hass.config.skip_pip = True
    hass.config_entries = config_entries.ConfigEntries(hass, {})
    await loader.async_get_custom_components(hass)
    if not await bootstrap.async_load_base_functionality(hass):
        raise RuntimeError("Home Assistant base functionality did not load")
    await hass.async_start()
    return hass


def enable_all(hass: HomeAssistant, entry_id: str) -> dict[str, bool]:
    """Enable every entity of the entry; return which were enabled before."""
    registry = er.async_get(hass)
    before = {}
    for reg in er.async_entries_for_config_entry(registry, entry_id):
        before[reg.unique_id] = reg.disabled_by is None
        if reg.disabled_by is not None:
            registry.async_update_entity(reg.entity_id, disabled_by=None)
    return before


async def run_device(golden: Path, definition: dict[str, Any]) -> dict[str, Any]:
    """Set up one golden device in core and describe the result."""
    device = Device(golden, definition["endpoints"])
    with tempfile.TemporaryDirectory() as config_dir, serve(device):
        hass = await start_hass(config_dir)
        try:
            out = await exercise(hass, device)
        finally:
            await hass.async_stop(force=True)
    out["requests"] = device.requests
    return out


async def exercise(hass: HomeAssistant, device: Device) -> dict[str, Any]:
    """Add the device by the user flow, enable all entities, poll, describe."""
    device.phase = "1 config flow, setup"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": "user"}, data={"host": HOST}
    )
    await hass.async_block_till_done()
    out: dict[str, Any] = {"config_flow": plain(_flow_summary(result))}
    entry = result.get("result")
    if entry is None:
        return out
    enabled_default = enable_all(hass, entry.entry_id)
    device.phase = "2 reload with all entities enabled"
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    while device.next_meter_payload():
        device.phase = f"{2 + device.poll} refresh with payload {device.poll + 1}"
        await entry.runtime_data.async_refresh()
        await hass.async_block_till_done()
    out["config_entry"] = config_entry(entry)
    out["devices"] = devices(hass, entry)
    out["entities"] = await entities(hass, entry, enabled_default)
    out["removed_entities"] = sorted(set(enabled_default) - set(out["entities"]))
    loaded = entry.state is config_entries.ConfigEntryState.LOADED
    out["diagnostics"] = (
        plain(await diagnostics.async_get_config_entry_diagnostics(hass, entry))
        if loaded
        else None
    )
    return out


def _flow_summary(result: Any) -> dict[str, Any]:
    """Keep the stable parts of a config flow result."""
    keys = ("type", "step_id", "reason", "errors", "title")
    return {key: result.get(key) for key in keys if result.get(key) is not None}


def main() -> int:
    """Regenerate the reference files for all or the named devices."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("devices", nargs="*", help="device names (default: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    definitions = json.loads((args.golden / "devices.json").read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    versions = {"homeassistant": HA_VERSION, "aio_wattwaechter": _lib_version()}
    for name in args.devices or sorted(definitions):
        definition = definitions[name]
        result = asyncio.run(run_device(args.golden, definition))
        result["golden"] = {"device": name, **definition}
        result["versions"] = versions
        text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False)
        (args.out / f"{name}.json").write_text(text + "\n")
        print(f"{name}: {len(result.get('entities', {}))} entities", file=sys.stderr)
    return 0


def _lib_version() -> str:
    """Return the installed aio-wattwaechter version."""
    from importlib.metadata import version  # noqa: PLC0415

    return version("aio-wattwaechter")


if __name__ == "__main__":
    sys.exit(main())
