"""Print what Home Assistant would pip-install at its first start with our config.

Why: HA installs the requirements of the integrations it sets up (and of their
dependencies and after-dependencies), of its auth modules, and of the integrations
that finishing onboarding adds (weather, radio, text-to-speech) when it first starts.
Installed beforehand (requirements_develop.txt), HA starts without the internet.

``python -m tour.ha_requirements`` (with the Python of the HA venv) prints the pins
missing from that venv. ``--ha-dir DIR`` reads an unpacked homeassistant wheel
instead (for a version this machine cannot run) and prints the pins that are not
already dependencies of the wheel.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
from pathlib import Path
import re

from packaging.requirements import Requirement
import yaml

CONFIG = Path(__file__).with_name("configuration.yaml")
CUSTOM = Path(__file__).resolve().parent.parent / "custom_components"
# Manifest keys that make HA also process a discovery integration's requirements.
DISCOVERY_KEYS = {"bluetooth", "dhcp", "ssdp", "usb", "zeroconf", "homekit"}


def _sets(bootstrap: Path) -> dict[str, set[str]]:
    """Return the module-level set literals of bootstrap.py, splats resolved."""
    found: dict[str, set[str]] = {}
    for node in ast.parse(bootstrap.read_text()).body:
        value = getattr(node, "value", None)
        target = getattr(node, "target", None) or (getattr(node, "targets", [None])[0])
        if not isinstance(value, ast.Set) or not isinstance(target, ast.Name):
            continue
        items: set[str] = set()
        for elt in value.elts:
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                items.add(elt.value)
            elif isinstance(elt, ast.Starred) and isinstance(elt.value, ast.Name):
                items |= found.get(elt.value.id, set())
        found[target.id] = items
    return found


def _manifest(ha_dir: Path, domain: str) -> dict[str, list[str]]:
    """Return an integration's manifest, or {}; ours overrides core's namesake."""
    for path in (
        CUSTOM / domain / "manifest.json",
        ha_dir / "components" / domain / "manifest.json",
    ):
        if path.exists():
            return dict(json.loads(path.read_text()))
    return {}


def _onboarding_domains(ha_dir: Path) -> list[str]:
    """Return the integrations that finishing onboarding sets up (met, ...)."""
    views = ha_dir / "components/onboarding/views.py"
    for node in ast.walk(ast.parse(views.read_text())):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "onboard_integrations"
        ):
            return list(ast.literal_eval(node.value))
    return []


def _domains(ha_dir: Path) -> set[str]:
    """Return every domain whose requirements HA processes at startup."""
    sets = _sets(ha_dir / "bootstrap.py")
    todo = [*yaml.safe_load(CONFIG.read_text()), "recorder", "zeroconf"]
    # Loading ours also processes the discovery integrations its manifest names
    # (its "dhcp" matchers pull in dhcp's packages even without dhcp: configured).
    todo += [path.parent.name for path in CUSTOM.glob("*/manifest.json")]
    todo += _onboarding_domains(ha_dir)
    todo += [*sets["CORE_INTEGRATIONS"], *sets["DEFAULT_INTEGRATIONS"]]
    seen: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = _manifest(ha_dir, domain)
        todo += manifest.get("dependencies", [])
        todo += manifest.get("after_dependencies", [])
        keys = DISCOVERY_KEYS & {*manifest}
        todo += ["zeroconf" if key == "homekit" else key for key in keys]
    return seen


def _auth_requirements(ha_dir: Path) -> set[str]:
    """Return the REQUIREMENTS lists of HA's auth providers and MFA modules."""
    found: set[str] = set()
    for path in (ha_dir / "auth").glob("*/*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "REQUIREMENTS" for t in node.targets
            ):
                found |= set(ast.literal_eval(node.value))
    return found


def requirements(ha_dir: Path) -> list[str]:
    """Return every requirement HA's first start would install, sorted."""
    wanted = _auth_requirements(ha_dir)
    for domain in _domains(ha_dir):
        wanted |= set(_manifest(ha_dir, domain).get("requirements", []))
    return sorted(wanted, key=str.lower)


def _installed(name: str) -> str | None:
    """Return the installed version of a distribution, or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def main() -> None:
    """Print the pins that HA would otherwise install at its first start."""
    parser = argparse.ArgumentParser(prog="python -m tour.ha_requirements")
    parser.add_argument("--ha-dir", type=Path, help="an unpacked homeassistant wheel")
    args = parser.parse_args()
    if args.ha_dir is None:
        import homeassistant  # noqa: PLC0415  # only this mode needs HA installed

        ha_dir = Path(homeassistant.__file__).parent
        for line in requirements(ha_dir):
            req = Requirement(line)
            if (have := _installed(req.name)) is None or have not in req.specifier:
                print(line)
        return
    ha_dir = args.ha_dir / "homeassistant"
    metadata = next(args.ha_dir.glob("homeassistant-*.dist-info")) / "METADATA"
    deps = {
        Requirement(line.split(":", 1)[1]).name.lower()
        for line in metadata.read_text().splitlines()
        if line.startswith("Requires-Dist:")
    }
    for line in requirements(ha_dir):
        if re.sub(r"[-_.]+", "-", Requirement(line).name.lower()) not in deps:
            print(line)


if __name__ == "__main__":
    main()
