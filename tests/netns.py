"""A second machine on the "school network", made on this one: a network
namespace joined to the host by a veth pair (root only; removed afterwards).

The host end gets ``host_address``, the namespace ``address``; a program run
with :meth:`Netns.run` or :meth:`Netns.python` is a device of the class: it
reaches the host only through the veth (there is no other route), so it sees
exactly what the laptop exposes on its network interface.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.paths import ROOT


class NetnsUnavailable(RuntimeError):
    pass


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


@dataclass
class Netns:
    name: str
    host_if: str
    address: str
    host_address: str

    @classmethod
    def create(cls) -> Netns:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            raise NetnsUnavailable("needs root and iproute2 (ip)")
        tag = f"{os.getpid() % 10000:04d}{random.randint(0, 99):02d}"
        # 10.213.X.Y/30 with X, Y random: parallel test runs do not collide
        third, fourth = random.randint(0, 255), random.randrange(0, 252, 4)
        found = cls(
            name=f"lumi-{tag}",
            host_if=f"lh{tag}",
            address=f"10.213.{third}.{fourth + 2}",
            host_address=f"10.213.{third}.{fourth + 1}",
        )
        try:
            _ip("netns", "add", found.name)
            _ip("link", "add", found.host_if, "type", "veth", "peer", "name", "eth-lumi",
                "netns", found.name)  # fmt: skip
            _ip("addr", "add", f"{found.host_address}/30", "dev", found.host_if)
            _ip("link", "set", found.host_if, "up")
            inside = ("netns", "exec", found.name, "ip")
            _ip(*inside, "addr", "add", f"{found.address}/30", "dev", "eth-lumi")
            _ip(*inside, "link", "set", "eth-lumi", "up")
            _ip(*inside, "link", "set", "lo", "up")
        except subprocess.CalledProcessError as error:
            found.remove()
            failed = " ".join(error.cmd[1:])
            raise NetnsUnavailable(f"ip {failed}: {error.stderr.strip()}") from None
        return found

    def remove(self) -> None:
        _ip("link", "del", self.host_if, check=False)
        _ip("netns", "del", self.name, check=False)

    def command(self, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def python(self, code: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run Python code (this venv, this repository) as a device of the class."""
        return subprocess.run(
            self.command(sys.executable, "-c", code),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def browser_wrapper(self, directory: Path) -> Path:
        """An executable that starts Debian's Chromium inside the namespace (for Playwright)."""
        chromium = shutil.which("chromium")
        if chromium is None:
            raise NetnsUnavailable("Debian's Chromium is not installed")
        path = directory / "chromium-in-netns"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {chromium} "$@"\n')
        path.chmod(0o755)
        return path
