"""Print what Home Assistant would pip-install at its first start with our config.

Why: HA installs the requirements of the integrations it sets up (and of their
dependencies and after-dependencies) and of its auth modules when it first starts.
Installed beforehand (requirements_develop.txt), HA starts without the internet.
Run with the Python of the HA venv: ``python -m tour.ha_requirements``; it prints
the missing or mismatched pins, one a line.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
from pathlib import Path

import homeassistant
from homeassistant import bootstrap
from packaging.requirements import Requirement
import yaml

HA_DIR = Path(homeassistant.__file__).parent
CONFIG = Path(__file__).with_name("configuration.yaml")
# Manifest keys that make HA also process a discovery integration's requirements.
DISCOVERY_KEYS = {"bluetooth", "dhcp", "ssdp", "usb", "zeroconf", "homekit"}


def _manifest(domain: str) -> dict[str, object]:
    """Return a built-in integration's manifest, or {} for a custom one."""
    path = HA_DIR / "components" / domain / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _domains() -> set[str]:
    """Return every domain whose requirements HA processes at startup."""
    todo = [*yaml.safe_load(CONFIG.read_text()), "recorder", "zeroconf"]
    todo += [*bootstrap.CORE_INTEGRATIONS, *bootstrap.DEFAULT_INTEGRATIONS]
    seen: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = _manifest(domain)
        todo += manifest.get("dependencies", []) + manifest.get(
            "after_dependencies", []
        )  # type: ignore[operator]
        todo += [
            key if key != "homekit" else "zeroconf"
            for key in DISCOVERY_KEYS & set(manifest)
        ]
    return seen


def _auth_requirements() -> set[str]:
    """Return the REQUIREMENTS lists of HA's auth providers and MFA modules."""
    found: set[str] = set()
    for path in (HA_DIR / "auth").glob("*/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "REQUIREMENTS" for t in node.targets
            ):
                found |= set(ast.literal_eval(node.value))
    return found


def main() -> None:
    """Print the requirements that are not installed in this environment."""
    wanted = _auth_requirements()
    for domain in _domains():
        wanted |= set(_manifest(domain).get("requirements", []))  # type: ignore[arg-type]
    for line in sorted(wanted, key=str.lower):
        req = Requirement(line)
        try:
            have = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            have = None
        if have is None or have not in req.specifier:
            print(line)


if __name__ == "__main__":
    main()
