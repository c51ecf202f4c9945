"""Running a benchmark's child process under ``valgrind --tool=callgrind``: its instructions.

The figure the callgrind benchmarks report is the difference between two children, one with 0
and one with N measured operations after the same warm-up, divided by N. Whatever the two do
alike cancels out, so it has to be done alike:

- **Bytecode from a cache.** With ``PYTHONDONTWRITEBYTECODE`` set (as on this project's
  machines) every child compiles every module it imports from source: about 7.5 billion
  instructions at start-up for the request benchmarks, 20 times the measured part. The
  children get a ``PYTHONPYCACHEPREFIX`` of their own instead, filled by one plain run of
  the same child before the counted one; start-up drops to about 2.4 billion instructions.
- **One hash seed.** String hashes, and with them every dict's collisions, change with
  ``PYTHONHASHSEED``; at start-up that moved the totals of two children by millions of
  instructions, i.e. by 5-15k "per request" at N = 500, more than the differences measured.
  The children run with ``PYTHONHASHSEED=0`` (``hash_seed``): the n=0 and n=N children then
  start up identically, and repeat runs agree to within about 0.3 %.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from benchmarks._apt import ensure_executable

_TOTALS: Final = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)
PYCACHE: Final = Path(tempfile.gettempdir()) / "lexigram-bench-pycache"
"""Where the children's bytecode is cached (``PYTHONPYCACHEPREFIX``); sources stay untouched."""


def ensure_valgrind() -> str:
    """The valgrind executable; installed from Debian (apt-get) when it is missing."""
    return ensure_executable("valgrind", "valgrind")


def child_env(hash_seed: int = 0, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a counted child (``base``, default this process's): cached
    bytecode, a fixed hash seed."""
    base = os.environ if base is None else base
    env = {key: value for key, value in base.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["PYTHONHASHSEED"] = str(hash_seed)
    return env


def run_under_callgrind(
    valgrind: str,
    script: str,
    child: list[str],
    what: str,
    *,
    hash_seed: int = 0,
    env: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Instructions callgrind counts for ``python script --child *child``, and its stdout.

    The same child runs once without callgrind first, so that the counted run imports
    every module from cached bytecode (see the module docstring). ``env`` replaces this
    process's environment as the base of the child's."""
    counted_env = child_env(hash_seed, env)
    command = [sys.executable, script, "--child", *child]
    warm = subprocess.run(command, capture_output=True, text=True, check=False, env=counted_env)
    if warm.returncode != 0:
        raise RuntimeError(f"{what} failed (before callgrind):\n{warm.stderr[-2000:]}")
    with tempfile.TemporaryDirectory(prefix="lexigram-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        counted = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *command]
        done = subprocess.run(counted, capture_output=True, text=True, check=False, env=counted_env)
        if done.returncode != 0:
            raise RuntimeError(f"{what} under callgrind failed:\n{done.stderr[-2000:]}")
        found = _TOTALS.search(out.read_text())
        if found is None:
            raise RuntimeError(f"no instruction total in the callgrind output of {what}")
        return int(found.group(1)), done.stdout
