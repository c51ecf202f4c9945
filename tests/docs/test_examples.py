"""Every Python example of README.md and docs/*.md runs and passes ``mypy --strict``.

The rules (docs/contributing.md): a ``python`` block is a complete program unless its first line
is ``# fragment: <what it leaves out>``; complete files live in ``docs/examples/`` and are shown
with ``{literalinclude}``. Runnable blocks are written to ``build/doc_blocks/`` (git-ignored),
run as scripts in an empty directory, and type-checked there in one mypy run; example files are
run the same way (``scripts/check`` type-checks them: ``docs/examples`` is in mypy's ``files``).
Examples that need a partner API start a stand-in on 127.0.0.1 (``docs/examples/_partner.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs._blocks import EXAMPLES, PAGES, ROOT, Block, all_blocks, blocks_in, example_files

BLOCKS = all_blocks()
RUNNABLE = [block for block in BLOCKS if block.fragment is None]
FRAGMENTS = [block for block in BLOCKS if block.fragment is not None]
BLOCKS_DIR = ROOT / "build" / "doc_blocks"
TIMEOUT = 120.0


def _env() -> dict[str, str]:
    """The environment of an example: no proxy, no LEX_ configuration from the shell."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LEX_") and name.lower() not in {"http_proxy", "https_proxy"}
    }
    env.pop("ALL_PROXY", None)
    env.pop("all_proxy", None)
    return env


def _run(script: Path, cwd: Path) -> None:
    """Runs a script (``test_*.py``: its tests, with pytest) and fails with its output."""
    command = [sys.executable, str(script)]
    if script.name.startswith("test_"):
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    done = subprocess.run(
        command,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{script.name} exited with {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )


def _write_blocks() -> list[Path]:
    BLOCKS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in BLOCKS_DIR.glob("*.py"):
        stale.unlink()
    paths = []
    for block in RUNNABLE:
        path = BLOCKS_DIR / f"{block.module_name}.py"
        path.write_text(f"# {block.id}\n{block.code}", "utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda block: block.id)
def test_a_runnable_block_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / f"{block.module_name}.py"
    script.write_text(block.code, "utf-8")
    _run(script, tmp_path)


def test_runnable_blocks_pass_mypy_strict() -> None:
    paths = _write_blocks()
    assert paths, "no runnable block found: the extractor is broken"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (
        "mypy --strict fails on documentation blocks (each file starts with its page:line):\n"
        + done.stdout
        + done.stderr
    )


@pytest.mark.parametrize("block", FRAGMENTS, ids=lambda block: block.id)
def test_a_fragment_says_what_it_leaves_out_and_compiles(block: Block) -> None:
    assert block.fragment is not None
    assert len(block.fragment.split()) >= 2, f"{block.id}: say what the fragment leaves out"
    # Compiled as the body of an async function: `await` and `return` are allowed.
    body = "".join(f"    {line}" for line in block.code.splitlines(keepends=True))
    compile(f"async def fragment():\n{body}", block.id, "exec")


# docs/examples/*.py, and the README's quick start (examples/*.py).
RUNNABLE_FILES = [*example_files(), *sorted((ROOT / "examples").glob("*.py"))]


@pytest.mark.parametrize("example", RUNNABLE_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_an_example_file_runs(example: Path, tmp_path: Path) -> None:
    _run(example, tmp_path)


def test_every_example_file_is_shown_on_a_page() -> None:
    text = "\n".join(page.read_text("utf-8") for page in PAGES)
    included = set(re.findall(r"\{literalinclude\}\s+(?:\.\./)?(?:docs/)?examples/(\S+\.py)", text))
    missing = [path.name for path in example_files() if path.name not in included]
    assert not missing, f"docs/examples files no page includes: {missing}"
    unknown = sorted(included - {path.name for path in EXAMPLES.glob("*.py")})
    assert not unknown, f"pages include examples that do not exist: {unknown}"


# -- the extractor itself -------------------------------------------------------------------------


def test_the_extractor_finds_blocks_in_lists_and_skips_nested_fences() -> None:
    page = ROOT / "docs" / "sample.md"
    text = "\n".join(
        [
            "# Sample",
            "```python",
            "print('top')",
            "```",
            "- in a list:",
            "  ```py",
            "  x = 1",
            "  ```",
            "````markdown",
            "```python",
            "not extracted",
            "```",
            "````",
            "```python",
            "# Fragment: leaves out where `client` comes from",
            "await client.get('x')",
            "```",
            "```yaml",
            "a: 1",
            "```",
        ]
    )
    blocks = blocks_in(text, page)
    assert [(b.line, b.code, b.fragment) for b in blocks] == [
        (2, "print('top')\n", None),
        (6, "x = 1\n", None),
        (
            14,
            "# Fragment: leaves out where `client` comes from\nawait client.get('x')\n",
            "leaves out where `client` comes from",
        ),
    ]


def test_an_unmarked_partial_block_fails(tmp_path: Path) -> None:
    (block,) = blocks_in("```python\nresult = await http.get(url)\n```\n", tmp_path / "x.md")
    assert block.fragment is None  # so it is run, and fails
    script = tmp_path / "partial.py"
    script.write_text(block.code, "utf-8")
    with pytest.raises(pytest.fail.Exception, match="SyntaxError"):
        _run(script, tmp_path)
