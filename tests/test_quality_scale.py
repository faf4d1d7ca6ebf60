"""quality_scale.yaml: every rule of every tier, done or exempt with a reason."""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.util.yaml import load_yaml
import pytest

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference" / "home-assistant.md"

# The rule list of ../shared/reference/home-assistant.md §1 (checked against it
# below when that file is present).
RULES: dict[str, set[str]] = {
    "Bronze": {
        "action-setup", "appropriate-polling", "brands", "common-modules",
        "config-flow", "config-flow-test-coverage", "dependency-transparency",
        "docs-actions", "docs-triggers", "docs-conditions",
        "docs-high-level-description", "docs-installation-instructions",
        "docs-removal-instructions", "entity-event-setup", "entity-unique-id",
        "has-entity-name", "runtime-data", "test-before-configure",
        "test-before-setup", "unique-config-entry",
    },
    "Silver": {
        "action-exceptions", "config-entry-unloading",
        "docs-configuration-parameters", "docs-installation-parameters",
        "entity-unavailable", "integration-owner", "log-when-unavailable",
        "parallel-updates", "reauthentication-flow", "test-coverage",
    },
    "Gold": {
        "devices", "diagnostics", "discovery", "discovery-update-info",
        "docs-data-update", "docs-examples", "docs-known-limitations",
        "docs-supported-devices", "docs-supported-functions",
        "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
        "entity-category", "entity-device-class", "entity-disabled-by-default",
        "entity-translations", "exception-translations", "icon-translations",
        "reconfiguration-flow", "repair-issues", "stale-devices",
    },
    "Platinum": {"async-dependency", "inject-websession", "strict-typing"},
}  # fmt: skip


def _rules_in_reference(text: str) -> dict[str, set[str]]:
    """Parse the tier tables: a bold tier heading, then ``| rule | meaning |`` rows."""
    tiers: dict[str, set[str]] = {}
    tier = None
    for line in text.splitlines():
        if heading := re.match(
            r"\*\*(Bronze|Silver|Gold|Platinum) \(\d+ rules\)\*\*", line
        ):
            tier = heading.group(1)
            tiers[tier] = set()
        elif tier and (row := re.match(r"\|\s*([a-z][a-z0-9/ -]*?)\s*\|", line)):
            if row.group(1) != "rule":
                tiers[tier].update(name.strip() for name in row.group(1).split("/"))
        elif tier and line.startswith("**") and tiers[tier]:
            tier = None
    return tiers


@pytest.mark.skipif(not REFERENCE.exists(), reason="no ../shared beside this clone")
def test_rule_list_matches_the_reference() -> None:
    assert _rules_in_reference(REFERENCE.read_text(encoding="utf-8")) == RULES


def test_every_rule_is_done_or_exempt_with_a_reason() -> None:
    data = load_yaml(
        str(ROOT / "custom_components" / "wattwaechter" / "quality_scale.yaml")
    )
    assert isinstance(data, dict)
    rules = data["rules"]
    expected = set().union(*RULES.values())
    assert set(rules) == expected
    for name, value in rules.items():
        if isinstance(value, dict):
            assert value["status"] == "exempt", name
            assert len(str(value.get("comment", ""))) > 10, name
        else:
            assert value == "done", name
