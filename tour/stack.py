"""Start the simulator and one Home Assistant version for a tour, and stop them.

Why: each run starts from nothing (fresh config directory), as a new user does,
on loopback only (the caller already runs inside ``tour.netns``). HA 2025.4.4
runs from ``.venv-develop``; HA 2026.11 needs Python 3.14 and runs in the Debian
sid chroot that ``shared/tools/test-on-latest-ha`` builds, from a venv of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import subprocess
import tempfile
import time
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
HA_URL = "http://127.0.0.1:8123"
SIM_PORT = 8080
SIM_URL = f"http://127.0.0.1:{SIM_PORT}"
CHROOT = Path(os.environ.get("LATEST_HA_ROOT", Path.home() / ".cache/latest-ha-root"))
CHROOT_VENV = "/opt/ha-2026.11"
CHROOT_REPO = "/repo-tour"


@dataclass(frozen=True)
class HaVersion:
    """One Home Assistant to tour: its label and how it is started."""

    label: str
    in_chroot: bool


VERSIONS = {
    "2025.4": HaVersion("2025.4", in_chroot=False),
    "2026.11": HaVersion("2026.11", in_chroot=True),
}


class Simulator:
    """The simulator process and its ``/_sim`` control endpoint."""

    def __init__(self, out: Path, *, ota_seconds: float, reboot_seconds: float):
        """Describe the process; ``start()`` runs it."""
        self._out = out
        self._args = [
            "--host",
            "127.0.0.1",
            "--port",
            str(SIM_PORT),
            "--mdns",
            "--advertise-ip",
            "127.0.0.1",
            "--ota-download-seconds",
            str(ota_seconds),
            "--reboot-seconds",
            str(reboot_seconds),
        ]
        self._proc: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start the simulator and wait until it answers."""
        log = (self._out / "simulator.log").open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            str(REPO / ".venv-develop/bin/python"),
            "-m",
            "simulator",
            *self._args,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._session = aiohttp.ClientSession()
        await wait_http(f"{SIM_URL}/_sim/state", 30)

    async def state(self) -> dict[str, Any]:
        """Return ``GET /_sim/state``."""
        assert self._session is not None
        async with self._session.get(f"{SIM_URL}/_sim/state") as resp:
            return dict(await resp.json())

    async def log(self) -> list[dict[str, Any]]:
        """Return the device's request log (``GET /_sim/log``)."""
        assert self._session is not None
        async with self._session.get(f"{SIM_URL}/_sim/log") as resp:
            return list(await resp.json())

    async def fault(self, mode: str, *, active: bool) -> None:
        """Set or clear one fault (``POST /_sim/fault``)."""
        assert self._session is not None
        body = {"mode": mode, "active": active}
        async with self._session.post(f"{SIM_URL}/_sim/fault", json=body) as resp:
            resp.raise_for_status()

    async def wait_for(self, what: str, check: Any, within: float) -> dict[str, Any]:
        """Poll the simulator state until ``check(state)`` holds."""
        deadline = time.monotonic() + within
        while True:
            state = await self.state()
            if check(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"simulator: {what} not seen in {within:.0f} s")
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """Stop the process and close the control session."""
        if self._session is not None:
            await self._session.close()
        if self._proc is not None:
            await _terminate(self._proc)


class HomeAssistant:
    """One Home Assistant process with a fresh configuration directory."""

    def __init__(self, version: HaVersion, out: Path) -> None:
        """Prepare the configuration directory (inside the chroot if needed)."""
        self.version = version
        self._out = out
        base = CHROOT / "tmp" if version.in_chroot else None
        self.config = Path(tempfile.mkdtemp(prefix="tour-ha-", dir=base))
        shutil.copy(REPO / "tour/configuration.yaml", self.config)
        self._proc: asyncio.subprocess.Process | None = None

    def _command(self) -> tuple[list[str], dict[str, str]]:
        """Return the command line and environment that start HA."""
        if not self.version.in_chroot:
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            python = str(REPO / ".venv-develop/bin/python")
            return [python, "-m", "homeassistant", "--config", str(self.config)], env
        _mount_chroot()
        inner = "/" + str(self.config.relative_to(CHROOT))
        return [
            "chroot",
            str(CHROOT),
            "/usr/bin/env",
            "-i",
            "PATH=/usr/bin:/bin",
            "HOME=/root",
            "LANG=C.UTF-8",
            f"PYTHONPATH={CHROOT_REPO}",
            f"{CHROOT_VENV}/bin/python",
            "-m",
            "homeassistant",
            "--config",
            inner,
        ], dict(os.environ)

    async def start(self) -> None:
        """Start HA and wait until its onboarding API answers."""
        command, env = self._command()
        log = (self._out / "ha-stdout.log").open("wb")
        self._proc = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        await wait_http(f"{HA_URL}/api/onboarding", 240, self._proc)

    @property
    def log_file(self) -> Path:
        """Return HA's own log file."""
        return self.config / "home-assistant.log"

    async def stop(self) -> None:
        """Stop HA, keep its log in the output directory, drop the config."""
        if self._proc is not None:
            await _terminate(self._proc, grace=30)
        if self.log_file.exists():
            shutil.copy(self.log_file, self._out / "home-assistant.log")
        shutil.rmtree(self.config, ignore_errors=True)


def _mount_chroot() -> None:
    """Mount /proc, /dev and the repository into the chroot (this namespace only)."""
    if not (CHROOT / CHROOT_VENV.lstrip("/") / "pyvenv.cfg").exists():
        raise RuntimeError(f"{CHROOT}{CHROOT_VENV} is missing: run scripts/tour")
    for target, args in (
        ("proc", ["-t", "proc", "proc"]),
        ("dev", ["--bind", "/dev"]),
        (CHROOT_REPO.strip("/"), ["--bind", str(REPO)]),
    ):
        path = CHROOT / target
        path.mkdir(exist_ok=True)
        if subprocess.run(["mountpoint", "-q", str(path)], check=False).returncode:
            subprocess.run(["mount", *args, str(path)], check=True)


async def _terminate(proc: asyncio.subprocess.Process, grace: float = 10) -> None:
    """Stop a child: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def wait_http(
    url: str, within: float, proc: asyncio.subprocess.Process | None = None
) -> None:
    """Wait until ``url`` answers 200 (fail early when ``proc`` exits)."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc is not None and proc.returncode is not None:
                raise RuntimeError(f"process exited with {proc.returncode}")
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {within:.0f} s")
