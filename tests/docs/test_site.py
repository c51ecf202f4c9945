"""The site build is strict: a dangling reference to one of our names fails it.

``scripts/docs`` (run by ``scripts/test``) builds the real site with ``-W``; this test builds a
one-page site with the same configuration (``docs/conf.py``) to prove that a reference to a
name we do not export is an error, and that our re-exports and private type hints resolve.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.docs._blocks import ROOT

GOOD = """# Page

{py:class}`lexigram.result.Ok` and {py:class}`lexigram.result._result.Err` (a private path).

```{eval-rst}
.. lexigram-api:: lexigram.result
```
"""


def _build(tmp_path: Path, page: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "src"
    source.mkdir()
    (source / "index.md").write_text(page, "utf-8")
    return subprocess.run(
        [
            sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-E", "-q",
            "-b", "html", "-c", str(ROOT / "docs"), str(source), str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip


def test_a_dangling_reference_to_our_names_fails_the_build(tmp_path: Path) -> None:
    done = _build(tmp_path, GOOD + "\nSee {py:class}`lexigram.result.NoSuchResult`.\n")
    assert done.returncode != 0
    assert "lexigram.result.NoSuchResult" in done.stderr


def test_the_api_directive_builds_cleanly(tmp_path: Path) -> None:
    done = _build(tmp_path, GOOD)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "html" / "index.html").read_text("utf-8")
    for name in ("Ok", "Err", "Result", "UnwrapError"):
        assert f'id="lexigram.result.{name}"' in html
