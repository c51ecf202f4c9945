"""The site build is strict: a dangling reference to one of our names fails it.

``scripts/docs`` (run by ``scripts/test``) builds the real site with ``-W``; this test builds a
one-page site with the same configuration (``docs/conf.py``) to prove that a reference to a
name we do not export is an error, and that our re-exports and private type hints resolve.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

from tests.docs._blocks import PAGES, ROOT

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


def _public_modules() -> set[str]:
    """Every public module of our distributions that declares ``__all__``."""
    found = set()
    for path in ROOT.glob("packages/*/src/lexigram/**/*.py"):
        relative = path.relative_to(next(p for p in path.parents if p.name == "src"))
        names = list(relative.with_suffix("").parts)
        if names[-1] == "__init__":
            names.pop()
        if any(name.startswith("_") for name in names):
            continue
        if "__all__" in path.read_text("utf-8"):
            found.add(".".join(names))
    return found


def test_every_public_package_has_its_api_entry_on_a_distribution_page() -> None:
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        packages: list[str] = importlib.import_module("lexigram_api").PACKAGES
    finally:
        sys.path.pop(0)
    public = _public_modules()
    assert public - set(packages) == set(), "add these packages to PACKAGES in lexigram_api.py"
    pages = "\n".join(p.read_text("utf-8") for p in (ROOT / "docs" / "api").glob("*.md"))
    documented = set(re.findall(r"^\.\. lexigram-api:: (\S+)$", pages, re.MULTILINE))
    assert documented == set(packages)


# Written by a command the page documents, not kept in the repository.
GENERATED = ("benchmarks/results/", "build/", "dist/")


def test_every_repository_path_a_page_names_exists() -> None:
    pattern = re.compile(r"`((?:examples|benchmarks|tests|docs|scripts|packages|\.ci)/[\w./-]*)`")
    missing = []
    for page in PAGES:
        for path in pattern.findall(page.read_text("utf-8")):
            if not path.startswith(GENERATED) and not (ROOT / path).exists():
                missing.append(f"{page.relative_to(ROOT)}: {path}")
    assert not missing, "pages name files that do not exist:\n" + "\n".join(missing)
