"""A misspelt request keyword is the same clear type error on every client (issue 18).

The keywords are defined once (``RequestOptions`` / ``StreamOptions``, used with ``Unpack``)
by the protocols, both clients and the fake. These tests run the type checkers on a user's
snippet and pin the messages users get: ``mypy --strict``, and ``pyright`` in strict mode
(run with ``npx``, pinned, from the npm registry).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lexigram.http import BaseURLHTTPClient, HTTPClient
from lexigram.testing.http import FakeHTTPClient, MockTransport, Router

ROOT = Path(__file__).resolve().parents[2]
PYRIGHT = "pyright@1.1.407"

SNIPPET = textwrap.dedent(
    """\
    from lexigram.contracts.web import HTTPClientProtocol, StreamingHTTPClientProtocol
    from lexigram.http import BaseURLHTTPClient, HTTPClient
    from lexigram.testing.http import FakeHTTPClient


    async def use(
        p: HTTPClientProtocol,
        s: StreamingHTTPClientProtocol,
        c: HTTPClient,
        b: BaseURLHTTPClient,
        f: FakeHTTPClient,
    ) -> None:
        await p.get("https://h.example/", timout=3)
        await c.get("https://h.example/", timout=3)
        await b.get("/x", timout=3)
        await f.get("https://h.example/", timout=3)
        s.stream("GET", "https://h.example/", timout=3)
        await p.post("https://h.example/", timeout="3")
    """
)


def test_mypy_strict_reports_a_typo_the_same_way_everywhere(tmp_path: Path) -> None:
    snippet = tmp_path / "snippet.py"
    snippet.write_text(SNIPPET)
    result = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
            "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", "--hide-error-context",
            str(snippet),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    errors = [
        line.split(": error: ")[1] for line in result.stdout.splitlines() if ": error: " in line
    ]
    typo = (
        'Unexpected keyword argument "timout" for "{}" of "{}"; did you mean "timeout"?  [call-arg]'
    )
    assert errors == [
        typo.format("get", "HTTPClientProtocol"),
        typo.format("get", "HTTPClient"),
        typo.format("get", "BaseURLHTTPClient"),
        typo.format("get", "FakeHTTPClient"),
        typo.format("stream", "StreamingHTTPClientProtocol"),
        'Argument "timeout" to "post" of "HTTPClientProtocol" has incompatible type "str"; '
        'expected "float | None"  [arg-type]',
    ], result.stdout + result.stderr


def _installed_layout(target: Path) -> Path:
    """The members' sources merged into one ``lexigram`` tree, as wheels install them.

    pyright does not follow ``pkgutil.extend_path``, so the workspace's one-``src``-per-member
    layout would hide every member but lexigram-di's; installed wheels share one directory.
    """
    for src in sorted((ROOT / "packages").glob("*/src")):
        root = src / "lexigram"
        for init in sorted(root.rglob("__init__.py")):
            package = init.parent
            if package == root:  # lexigram-di's pkgutil root: its files, not the directory
                links = [
                    (f, target / "lexigram" / f.name) for f in package.iterdir() if f.is_file()
                ]
            elif any(
                (parent / "__init__.py").exists()
                for parent in package.parents
                if parent != root and root in parent.parents
            ):
                continue  # inside a leaf package already linked
            else:
                links = [(package, target / package.relative_to(src))]
            for source, link in links:
                if source.name != "__pycache__":
                    link.parent.mkdir(parents=True, exist_ok=True)
                    link.symlink_to(source)
    return target


def test_pyright_strict_reports_a_typo_the_same_way_everywhere(tmp_path: Path) -> None:
    npx = shutil.which("npx")
    assert npx is not None, "pyright runs through npx (Node.js): install nodejs and npm"
    (tmp_path / "snippet.py").write_text(SNIPPET)
    merged = _installed_layout(tmp_path / "site")
    config = {
        "typeCheckingMode": "strict",
        "pythonVersion": "3.11",
        "pythonPlatform": "Linux",
        "extraPaths": [str(merged)],
        "venvPath": str(Path(sys.prefix).parent),
        "venv": Path(sys.prefix).name,
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [npx, "--yes", PYRIGHT, "--outputjson", "-p", "pyrightconfig.json", "snippet.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    found = [
        (d["range"]["start"]["line"] + 1, d["message"].splitlines()[0], d.get("rule"))
        for d in report["generalDiagnostics"]
    ]
    typo = ('No parameter named "timout"', "reportCallIssue")
    assert found == [
        (13, *typo),
        (14, *typo),
        (15, *typo),
        (16, *typo),
        (17, *typo),
        (
            18,
            'Argument of type "Literal[\'3\']" cannot be assigned to parameter "timeout" of '
            'type "float | None" in function "post"',
            "reportArgumentType",
        ),
    ], result.stdout


async def test_at_run_time_a_typo_is_a_type_error_with_a_suggestion() -> None:
    router = Router()
    clients: list[HTTPClient | BaseURLHTTPClient | FakeHTTPClient] = [
        HTTPClient(transport=MockTransport(router)),
        BaseURLHTTPClient("https://h.example", transport=MockTransport(router)),
        FakeHTTPClient(router),
    ]
    expected = r"^unexpected keyword argument 'timout' for a GET request; did you mean 'timeout'\?"
    for client in clients:
        async with client:
            with pytest.raises(TypeError, match=expected):
                await client.get("https://h.example/", timout=3)  # type: ignore[call-arg]
    assert len(router.calls) == 0
