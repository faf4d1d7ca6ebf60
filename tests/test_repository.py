"""Repository checks that hassfest and HACS would otherwise only run on GitHub."""

from __future__ import annotations

import json
from pathlib import Path

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "wattwaechter"
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


def test_manifest_keys_in_hassfest_order() -> None:
    """Domain, name, then the rest alphabetically (hassfest fails otherwise)."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_is_a_loadable_custom_integration() -> None:
    """HA refuses a custom integration without a valid version."""
    assert MANIFEST["domain"] == INTEGRATION.name
    version = AwesomeVersion(MANIFEST["version"])
    assert version.strategy is not AwesomeVersionStrategy.UNKNOWN
    for key in ("codeowners", "documentation", "issue_tracker", "iot_class"):
        assert MANIFEST[key], key
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["integration_type"] == "device"
    assert MANIFEST["iot_class"] == "local_polling"


def test_zeroconf_matchers() -> None:
    """Both advertisements are matched; name filters are lower case."""
    matchers = MANIFEST["zeroconf"]
    assert "_wattwaechter._tcp.local." in matchers
    http = [m for m in matchers if isinstance(m, dict)]
    assert http == [{"type": "_http._tcp.local.", "name": "wattwaechter*"}]
    for matcher in http:
        for key in ("name", "properties"):
            value = matcher.get(key)
            if isinstance(value, str):
                assert value == value.lower()


def test_dhcp_matchers() -> None:
    """Known devices are followed to a new address; new ones found by host name."""
    assert MANIFEST["dhcp"] == [
        {"registered_devices": True},
        {"hostname": "wattwaechter*"},
    ]


def test_recorder_is_optional() -> None:
    """Live entities work without the recorder; only the history import needs it."""
    assert "recorder" not in MANIFEST.get("dependencies", [])
    assert MANIFEST["after_dependencies"] == ["recorder"]


def test_hacs_json() -> None:
    """hacs.json has only keys HACS knows, a name and the minimum HA version."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"]
    assert hacs["homeassistant"] == "2025.4.0"


def test_one_integration_in_custom_components() -> None:
    """HACS manages only the first directory under custom_components/."""
    dirs = [p.name for p in (ROOT / "custom_components").iterdir() if p.is_dir()]
    assert dirs == ["wattwaechter"]


def test_brand_images() -> None:
    """Transparent PNGs in the sizes the brands rules ask for."""
    brand = INTEGRATION / "brand"
    sizes = {"icon.png": (256, 256), "icon@2x.png": (512, 512)}
    for name, size in sizes.items():
        with Image.open(brand / name) as image:
            assert image.size == size
            assert image.mode == "RGBA"
            assert image.getpixel((0, 0))[3] == 0
    for name, (low, high) in {
        "logo.png": (128, 256),
        "logo@2x.png": (256, 512),
    }.items():
        with Image.open(brand / name) as image:
            assert low <= min(image.size) <= high
            assert image.getpixel((0, 0))[3] == 0
