"""Tools the benchmarks start (nginx, valgrind): found on the PATH, else installed with apt-get."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Final

_SBIN: Final = "/usr/sbin:/usr/local/sbin"
"""Where Debian puts daemons such as nginx, often missing from a user's PATH."""


def ensure_executable(name: str, package: str) -> str:
    """The path of ``name``; the Debian ``package`` is installed with apt-get when missing."""
    found = shutil.which(name) or shutil.which(name, path=_SBIN)
    if found:
        return found
    print(
        f"{name} not found: installing it with apt-get (Debian package {package}) ...", flush=True
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", package], check=True, env=env)
    found = shutil.which(name) or shutil.which(name, path=_SBIN)
    if not found:
        raise RuntimeError(
            f"apt-get install {package} succeeded but no {name} executable was found"
        )
    return found
