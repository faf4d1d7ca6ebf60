"""Every text the integration shows exists in English and German, with the
same placeholders; every action has a translation and an icon."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "wattwaechter"
EN = json.loads((INTEGRATION / "translations" / "en.json").read_text("utf-8"))
DE = json.loads((INTEGRATION / "translations" / "de.json").read_text("utf-8"))
ICONS = json.loads((INTEGRATION / "icons.json").read_text("utf-8"))
SERVICES = yaml.safe_load((INTEGRATION / "services.yaml").read_text("utf-8"))
SOURCES = {
    str(path.relative_to(INTEGRATION)): path.read_text("utf-8")
    for path in INTEGRATION.rglob("*.py")
}
# Keys Home Assistant's own flow helpers raise (already-configured and
# reauth/reconfigure aborts), and the imported statistics' names, which
# statistics.py looks up as ``statistic_{kind}``.
IMPLICIT = {
    "config.abort.already_configured",
    "config.abort.reauth_successful",
    "config.abort.reconfigure_successful",
    "entity.sensor.statistic_energy_import",
    "entity.sensor.statistic_energy_export",
}


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Return ``{"a.b.c": text}`` for every string of a translation tree."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def used(pattern: str) -> set[str]:
    """Return the first group of ``pattern`` over every source file."""
    return {m for text in SOURCES.values() for m in re.findall(pattern, text)}


def test_german_is_complete() -> None:
    assert set(flatten(DE)) == set(flatten(EN))


@pytest.mark.parametrize("path", sorted(flatten(EN)))
def test_same_placeholders(path: str) -> None:
    placeholders = re.compile(r"\{(\w+)\}")
    assert set(placeholders.findall(flatten(DE)[path])) == set(
        placeholders.findall(flatten(EN)[path])
    )


def test_exceptions_are_translated() -> None:
    keys = used(r'translation_key="(\w+)"') | used(r'action_error\(\s*"(\w+)"')
    keys |= used(r'SecureError\("(\w+)"') | used(r'_invalid\(\s*"(\w+)"')
    entity_keys = {key for platform in EN["entity"].values() for key in platform}
    missing = keys - set(EN["exceptions"]) - entity_keys
    assert not missing


def test_form_errors_and_aborts_are_translated() -> None:
    # Form errors: the flow's own, the host/token checks' and every client
    # error of the one table in errors.py.
    errors = used(r'FormError\(\s*"(\w+)"')
    errors |= set(re.findall(r'_invalid\(\s*"(\w+)"', SOURCES["api/inputs.py"]))
    errors |= used(r'Error, "(\w+)"\)') | {"unknown", "device_busy"}
    assert errors <= set(EN["config"]["error"])
    assert used(r'errors\[CONF_SCAN_INTERVAL\] = "(\w+)"') <= set(
        EN["options"]["error"]
    )
    aborts = used(r'reason="(\w+)"') - {"not_loaded"}
    assert aborts <= set(EN["config"]["abort"])
    fix_flow = EN["issues"]["auth_disabled"]["fix_flow"]
    assert used(r'SecureError\("(\w+)"') <= set(fix_flow["error"])
    assert "not_loaded" in fix_flow["abort"]


def test_issues_are_translated() -> None:
    constants = dict(used(r'(ISSUE_\w+): Final = "(\w+)"'))
    assert set(constants.values()) <= set(EN["issues"])


def test_every_action_has_text_and_icon() -> None:
    assert set(SERVICES) == set(EN["services"]) == set(ICONS["services"])
    for service in SERVICES:
        assert EN["services"][service]["name"]
        assert EN["services"][service]["description"]
        assert ICONS["services"][service]["service"].startswith("mdi:")


@pytest.mark.parametrize("language", [EN, DE], ids=["en", "de"])
def test_every_action_field_is_translated(language: dict[str, Any]) -> None:
    for service, spec in SERVICES.items():
        fields = (spec or {}).get("fields", {})
        translated = language["services"][service].get("fields", {})
        assert set(fields) == set(translated), service
        for field in translated.values():
            assert field["name"]
            assert field["description"]


def _mentioned(identifier: str) -> bool:
    """Whether code (or services.yaml) names ``identifier`` as a string.

    Keys built in a loop (``f"import_tariff_{n}"``) count through their prefix.
    """
    texts = [*SOURCES.values(), (INTEGRATION / "services.yaml").read_text("utf-8")]
    candidates = {identifier, re.sub(r"\d+$", "", identifier)}
    return any(
        re.search(rf"[\"']{re.escape(candidate)}", text)
        for candidate in candidates
        for text in texts
        if candidate
    )


def test_no_orphaned_keys() -> None:
    """Every translated key is used by the code: nothing stale is shipped."""
    orphans = []
    for section in ("config", "options"):
        for step in EN.get(section, {}).get("step", {}):
            if not _mentioned(step) and f"async_step_{step}" not in "".join(
                SOURCES.values()
            ):
                orphans.append(f"{section}.step.{step}")
        for kind in ("error", "abort"):
            orphans += [
                f"{section}.{kind}.{key}"
                for key in EN.get(section, {}).get(kind, {})
                if not _mentioned(key)
            ]
    for platform, keys in EN.get("entity", {}).items():
        orphans += [f"entity.{platform}.{k}" for k in keys if not _mentioned(k)]
    for section in ("exceptions", "issues", "services", "selector"):
        orphans += [f"{section}.{k}" for k in EN.get(section, {}) if not _mentioned(k)]
    assert not set(orphans) - IMPLICIT


def test_every_entity_has_an_icon() -> None:
    for platform, keys in EN["entity"].items():
        for key in keys:
            if key.startswith("statistic_"):
                continue  # names of imported statistics, not entities
            assert key in ICONS["entity"].get(platform, {}), f"{platform}.{key}"
