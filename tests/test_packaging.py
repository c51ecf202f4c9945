"""Packaging checks (DESIGN.md §1): the split distributions work as users install them.

1. Every member builds a wheel with ``uv build --all-packages --no-sources``; installed in a fresh
   venv outside the workspace, the seed's import lines work and ``mypy --strict`` passes on a
   consumer file.
2. lexigram-http-contracts installs with no third-party package at all.
3. Each member's tests pass with only that member (and its own dependencies) installed.

These run only with ``-m packaging`` (``scripts/test`` does it after the main pytest run): they
build wheels and create virtual environments, which takes a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"

# Which tests belong to which member, for the isolation runs.
MEMBER_TESTS: dict[str, list[str]] = {
    # tests/typing/test_core_* type-check the seed's lexigram.http samples: they need core.
    "lexigram-http-contracts": ["tests/contracts", "tests/typing", "--ignore-glob=*/test_core_*"],
    "lexigram-di": ["tests/di"],
    "lexigram-http-core": ["tests/core", "tests/typing"],
    "lexigram-http-resilience": ["tests/resilience"],
    "lexigram-http-observability": ["tests/observability"],
    "lexigram-http-testing": ["tests/testing"],
    "lexigram-http-cli": ["tests/cli"],
}

SEED_IMPORTS = """\
from typing import Any, Protocol, runtime_checkable
from lexigram.contracts.web import HttpResponse
from lexigram import Application
from lexigram.di.module import Module, module
from lexigram.http import HTTPModule, HTTPClientConfig
from lexigram.contracts.web import HTTPClientProtocol
from lexigram.result import Result, Ok, Err
from lexigram.http import BaseURLHTTPClient
from lexigram.contracts.web import InterceptorProtocol
from lexigram.contracts.web import HTTPClientProtocol, HttpResponse
from lexigram.result import Ok
import lexigram.http
"""

CONSUMER = '''\
"""A strict consumer of the installed wheels: the seed's typed shapes."""
from dataclasses import dataclass

from lexigram import Application
from lexigram.contracts.web import (
    HTTPClientError,
    HTTPClientProtocol,
    HttpResponse,
    InterceptorProtocol,
    RequestContext,
)
from lexigram.result import Err, Ok, Result


@dataclass(frozen=True)
class Invoice:
    id: str
    amount_cents: int


class BillingClient:
    def __init__(self, http: HTTPClientProtocol, token: str) -> None:
        self._http = http
        self._token = token

    async def fetch_invoice(self, invoice_id: str) -> Result[Invoice, str]:
        result = await self._http.get(
            f"https://api.partner.example.com/v1/invoices/{invoice_id}",
            headers={"Authorization": f"Bearer {self._token}"},
        )
        if result.is_err():
            return Err(f"billing fetch failed: {result.error}")
        body = result.value.json
        return Ok(Invoice(id=body["id"], amount_cents=body["amount_cents"]))


class FakeHTTPClient(HTTPClientProtocol):
    async def get(self, url: str, **kwargs: object) -> Result[HttpResponse, HTTPClientError]:
        return Ok(HttpResponse(status=200, url=url, method="GET", json={"id": "inv_1"}))


class CorrelationInterceptor(InterceptorProtocol):
    async def intercept_request(self, context: RequestContext) -> RequestContext:
        context.headers.setdefault("X-Correlation-Id", "corr-1")
        return context

    async def intercept_response(self, response: HttpResponse) -> HttpResponse:
        return response


client = BillingClient(http=FakeHTTPClient(), token="t")
app_type: type[Application] = Application
'''


def _run(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(
            f"command failed ({proc.returncode}): {' '.join(args)}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
        )
    return proc


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:  # pragma: no cover - scripts/test always runs under uv
        pytest.fail("uv is not on PATH; install it with `python -m pip install uv`")
    return uv


def _outside_env() -> dict[str, str]:
    """Environment for commands that must not see the workspace's venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT"}}
    env["PYTHONNOUSERSITE"] = "1"
    return env


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(
        [_uv(), "build", "--all-packages", "--no-sources", "--wheel", "-o", str(dist)],
        cwd=ROOT,
    )
    return dist


def _workspace_version() -> str:
    meta = tomllib.loads((PACKAGES / "lexigram-http-core" / "pyproject.toml").read_text())
    return str(meta["project"]["version"])


def _member_names() -> list[str]:
    return sorted(p.name for p in PACKAGES.iterdir() if (p / "pyproject.toml").is_file())


def test_every_member_builds_a_wheel(wheels: Path) -> None:
    built = {w.name.split("-0")[0].replace("_", "-") for w in wheels.glob("*.whl")}
    assert built == set(_member_names())


def _venv(where: Path) -> Path:
    _run([_uv(), "venv", "--quiet", "--python", sys.executable, str(where)], cwd=where.parent)
    return where / "bin" / "python"


def test_wheels_in_a_fresh_venv_run_the_seed_imports_and_pass_mypy_strict(
    wheels: Path, tmp_path: Path
) -> None:
    python = _venv(tmp_path / "venv")
    env = _outside_env()
    # Our wheels by path, so that nothing of ours comes from the index.
    ours = sorted(str(w) for w in wheels.glob("*.whl"))
    _run(
        [_uv(), "pip", "install", "--quiet", "--python", str(python), *ours, "mypy"],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    versions = _run(
        [
            str(python), "-c",
            "import importlib.metadata as m; print(m.version('lexigram-http-cli'))",
        ],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert versions.stdout.strip() == _workspace_version()
    # The command is installed and runs from the wheels.
    command = _run(
        [str(tmp_path / "venv" / "bin" / "lexigram-http"), "config", "show"],
        cwd=tmp_path,
        env=env,
    )
    assert "http.pool.timeout" in command.stdout
    # The installed modules come from site-packages, not from this checkout.
    probe = _run(
        [str(python), "-c", SEED_IMPORTS + "print(lexigram.http.__file__)"],
        cwd=tmp_path,
        env=env,
    )
    assert "site-packages" in probe.stdout
    assert str(ROOT) not in probe.stdout
    consumer = tmp_path / "consumer.py"
    consumer.write_text(CONSUMER)
    _run([str(python), "-m", "mypy", "--strict", str(consumer)], cwd=tmp_path, env=env)


def test_contracts_alone_installs_with_no_third_party_package(wheels: Path, tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    env = _outside_env()
    # --no-index: anything beyond our own wheel would fail to resolve.
    _run(
        [
            _uv(), "pip", "install", "--quiet", "--no-index", "--python", str(python),
            *map(str, wheels.glob("lexigram_http_contracts-*.whl")),
        ],
        cwd=tmp_path, env=env,
    )  # fmt: skip
    listing = _run(
        [_uv(), "pip", "list", "--python", str(python), "--format", "freeze"],
        cwd=tmp_path,
        env=env,
    )
    installed = {line.split("==")[0] for line in listing.stdout.split()}
    assert installed == {"lexigram-http-contracts"}
    code = textwrap.dedent(
        """
        import importlib.util
        import lexigram.result, lexigram.contracts.web
        import lexigram.contracts.resilience, lexigram.contracts.observability
        import lexigram.contracts.clock
        from lexigram.result import Ok
        from lexigram.contracts.web import HttpResponse, HTTPClientProtocol
        # lexigram is a plain namespace here: no lexigram-di, no Application.
        assert importlib.util.find_spec("lexigram.di") is None
        print(Ok(HttpResponse(status=200, json={"a": 1})).value.json["a"])
        """
    )
    out = _run([str(python), "-c", code], cwd=tmp_path, env=env)
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("member", sorted(MEMBER_TESTS))
def test_member_tests_pass_with_only_that_member_installed(member: str) -> None:
    env = _outside_env()
    _run(
        [
            _uv(), "run", "--frozen", "--isolated", "--package", member,
            "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *MEMBER_TESTS[member],
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip


def test_every_member_has_an_isolation_run() -> None:
    assert set(MEMBER_TESTS) == set(_member_names())


def test_no_member_is_named_lexigram_http() -> None:
    # The name belongs to another project on the public index: we publish nothing under it,
    # and no member depends on it.
    names = set(_member_names())
    assert "lexigram-http" not in names
    for member in names:
        meta = tomllib.loads((PACKAGES / member / "pyproject.toml").read_text())
        assert meta["project"]["name"] == member
        requirements = [
            *meta["project"].get("dependencies", []),
            *(
                req
                for extra in meta["project"].get("optional-dependencies", {}).values()
                for req in extra
            ),
        ]
        for requirement in requirements:
            assert not requirement.startswith(("lexigram-http[", "lexigram-http=")), requirement


def test_the_cli_installs_every_layer_and_the_command() -> None:
    env = _outside_env()
    code = (
        "import lexigram.http, lexigram.resilience, lexigram.observability, lexigram.di, "
        "lexigram.http_cli, shutil; assert shutil.which('lexigram-http')"
    )
    _run(
        [
            _uv(),
            "run",
            "--frozen",
            "--isolated",
            "--package",
            "lexigram-http-cli",
            "python",
            "-c",
            code,
        ],
        cwd=ROOT,
        env=env,
    )
