"""The observability example runs and shows what the guide says it shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_exports_the_retried_call() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "observability.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count('"name": "GET"') == 2
    assert '"http.request.resend_count": 1' in out
    assert "api_key=[REDACTED]" in out
    assert "not-for-your-logs" not in out + done.stderr
    assert 'http_client_retries_total{host="127.0.0.1:' in out
    assert "correlation=example-1" in done.stderr
