"""What the test suite needs from the machine, set up when missing (never downloaded at run time
by the tests themselves beyond Debian's own packages): PostgreSQL running, Chromium with a Chinese
font, LibreOffice. One place, so CI and a developer's `pytest` do the same thing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_HOST, PG_PORT = "127.0.0.1", 5432


def _apt_install(packages: list[str]) -> None:
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError(f"缺少系统软件包 {' '.join(packages)}，且本机没有 apt-get：请手工安装")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run([apt, "install", "-y", "-q", *packages], env=env, capture_output=True).returncode != 0:
        subprocess.run([apt, "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run([apt, "install", "-y", "-q", *packages], env=env, check=True, capture_output=True)


def ensure_debian_packages(required: dict[str, str]) -> None:
    """required: a file that proves the package is installed -> the Debian package providing it."""
    missing = sorted({pkg for path, pkg in required.items() if not Path(path).exists()})
    if missing:
        _apt_install(missing)


def ensure_browser() -> None:
    ensure_debian_packages(
        {"/usr/bin/chromium": "chromium", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc": "fonts-wqy-zenhei"}
    )


def ensure_libreoffice() -> None:
    ensure_debian_packages(
        {
            "/usr/bin/soffice": "libreoffice-writer-nogui",
            "/usr/lib/libreoffice/program/libscfiltlo.so": "libreoffice-calc-nogui",
            "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc": "fonts-wqy-zenhei",
        }
    )


def free_port() -> int:
    """A loopback port free right now (bound to 0 and released: aiosmtpd and streamlit want a number)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_up() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            return True
    except OSError:
        return False


def ensure_postgres(timeout: float = 60) -> None:
    """Start the local cluster when it is down (installing Debian's PostgreSQL if there is none)."""
    if postgres_up():
        return
    if not Path("/etc/postgresql").is_dir() or not any(Path("/etc/postgresql").iterdir()):
        _apt_install(["postgresql"])
    for version in sorted(p.name for p in Path("/etc/postgresql").iterdir()):
        for cluster in sorted(p.name for p in (Path("/etc/postgresql") / version).iterdir()):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "start"], capture_output=True
            )
    deadline = time.monotonic() + timeout
    while not postgres_up():
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"PostgreSQL 未能在 {PG_HOST}:{PG_PORT} 启动（pg_ctlcluster start 之后 {timeout:.0f} 秒）"
            )
        time.sleep(0.5)
