"""Run a command in a private network namespace whose only interface is loopback.

Why: the simulator and Home Assistant find each other over mDNS. HA's zeroconf
skips loopback addresses when it picks interfaces, so on a normal host it would
talk on the LAN. In a namespace that has nothing but ``lo`` (plus a multicast
route), HA's default choice is loopback and no packet can reach another network.
Host ports given with ``--forward`` stay reachable from the host's 127.0.0.1, so
a browser outside can still open Home Assistant.

Needs root, or unprivileged user namespaces. Usage:
``python -m tour.netns [--forward 8123 ...] -- COMMAND [ARGS...]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys


def only_loopback() -> bool:
    """Return whether this process sees no network interface but ``lo``."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def _unshare() -> None:
    """Enter new network and mount namespaces; bring lo up with multicast."""
    if os.geteuid() == 0:
        os.unshare(os.CLONE_NEWNET | os.CLONE_NEWNS)
        # Bind mounts made in here (the tour's chroot) vanish with the namespace.
        subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    else:
        uid, gid = os.getuid(), os.getgid()
        os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET | os.CLONE_NEWNS)
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    for cmd in (
        ["ip", "link", "set", "lo", "up", "multicast", "on"],
        ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"],
    ):
        subprocess.run(cmd, check=True)
    if not only_loopback():
        raise RuntimeError("the new network namespace has more than lo")


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction of a forwarded connection until it closes."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.close()


def _forwarder(port: int):
    """Return a connection handler that forwards to 127.0.0.1:port inside."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_copy(reader, up_writer), _copy(up_reader, writer))

    return handle


def _killpg(pgid: int, signum: int) -> None:
    """Send ``signum`` to a process group that may be gone already."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


async def _run(listeners: dict[int, socket.socket], command: list[str]) -> int:
    """Serve the forwards while the command runs; return its exit status."""
    servers = [
        await asyncio.start_server(_forwarder(port), sock=sock)
        for port, sock in listeners.items()
    ]
    # Its own process group, so a signal reaches every process it started.
    proc = await asyncio.create_subprocess_exec(*command, process_group=0)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _killpg, proc.pid, signum)
    status = await proc.wait()
    for server in servers:
        server.close()
    return status


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, bind the forwards on the host, enter the namespace, run."""
    parser = argparse.ArgumentParser(prog="python -m tour.netns")
    parser.add_argument("--forward", type=int, action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    listeners: dict[int, socket.socket] = {}
    for port in args.forward:
        # Bound before unsharing, so these stay on the host's loopback.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as err:
            parser.error(f"cannot forward 127.0.0.1:{port}: {err.strerror}")
        sock.listen(64)
        listeners[port] = sock
    _unshare()
    return asyncio.run(_run(listeners, command))


if __name__ == "__main__":
    sys.exit(main())
