"""Finds the Python code blocks of the documentation pages (the rules: docs/contributing.md).

A block is a fence whose info string is ``python`` (or ``py``). It is either

- **runnable** (the default): a complete program, run as a script and type-checked with
  ``mypy --strict``; or
- a **fragment**: its first line is ``# fragment: <what it leaves out>``; it is only compiled
  (as the body of an async function: ``await`` and ``return`` are allowed), so it must still be
  valid Python.

Complete files under ``docs/examples/`` are shown with MyST's ``{literalinclude}``, which is not
a Python fence: they are run and type-checked as files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = ROOT / "docs" / "examples"

PYTHON_INFO = {"python", "py", "python3"}
_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_FRAGMENT = re.compile(r"^#\s*fragment:\s*(?P<reason>\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Block:
    """One Python block: where it is, its code (dedented) and, for a fragment, why."""

    page: Path
    line: int  # 1-based line of the opening fence
    code: str
    fragment: str | None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def module_name(self) -> str:
        stem = re.sub(r"\W", "_", self.page.stem.lower())
        return f"{stem}_line_{self.line}"


def blocks_in(text: str, page: Path) -> list[Block]:
    """The Python blocks of one Markdown text; fences nested in another fence are skipped."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _OPEN.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence = match["indent"], match["fence"]
        info = match["info"].strip()
        closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end])
            end += 1
        language = info.split()[0].lower() if info else ""
        if language in PYTHON_INFO:
            code = "\n".join(body) + "\n"
            first = next((line for line in body if line.strip()), "")
            marker = _FRAGMENT.match(first.strip())
            found.append(Block(page, index + 1, code, marker["reason"] if marker else None))
        index = end + 1
    return found


def all_blocks() -> list[Block]:
    """Every Python block of README.md and docs/*.md."""
    return [block for page in PAGES for block in blocks_in(page.read_text("utf-8"), page)]


def example_files() -> list[Path]:
    """The complete examples (``docs/examples/*.py``; ``_*.py`` are their shared helpers)."""
    return sorted(path for path in EXAMPLES.glob("*.py") if not path.name.startswith("_"))
