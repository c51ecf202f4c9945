"""The benchmark upstream: a private nginx, one worker pinned to CPU 1, serving static files.

nginx answers a small static file in a few microseconds of its own CPU, so on this machine
(client on CPU 0, nginx on CPU 1) the client is always the bottleneck, which is what the suite
measures. Everything nginx touches lives in one temporary directory: its configuration, pid
file, error log, temp paths and the payloads, generated at start. No system configuration or
default site is read (``-c`` and ``-e`` point into the temporary directory).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Final

from benchmarks._apt import ensure_executable

__all__ = ["PAYLOADS", "Upstream", "ensure_nginx"]

SMALL_PATH: Final = "/small.json"
BODY_PATH: Final = "/1mib.bin"
NDJSON_PATH: Final = "/stream.ndjson"
NDJSON_RATE_PATH: Final = "/rate.ndjson"
NDJSON_SMALL_PATH: Final = "/small.ndjson"
SSE_PATH: Final = "/stream.sse"
ERROR_PATH: Final = "/status503"

_NDJSON_BYTES: Final = 100 * 1000 * 1000
_NDJSON_RATE_BYTES: Final = 20 * 1000 * 1000
_SSE_BYTES: Final = 25 * 1000 * 1000

# Paths served, with what each is; the sizes are filled in by the generator.
PAYLOADS: Final = {
    SMALL_PATH: "~250 B JSON object",
    BODY_PATH: "1 MiB of bytes",
    NDJSON_PATH: "~100 MB of NDJSON, one ~85 B object a line (memory probe)",
    NDJSON_RATE_PATH: "the first ~20 MB of it (lines/s, objects/s)",
    NDJSON_SMALL_PATH: "its first ~1 MB (instruction counts per object)",
    SSE_PATH: "~25 MB text/event-stream, one ~100 B event each",
    ERROR_PATH: "503 from nginx (return 503)",
}

_CONFIG: Final = """\
worker_processes 1;
worker_cpu_affinity {affinity};
daemon off;
master_process on;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{
    worker_connections 4096;
    multi_accept on;
}}

http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;

    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    open_file_cache max=16 inactive=300s;
    default_type application/octet-stream;
    types {{
        application/json json;
        application/x-ndjson ndjson;
        text/event-stream sse;
    }}

    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root}/www;

        location = {error_path} {{
            return 503;
        }}
        location = /nginx_status {{
            stub_status;
        }}
    }}
}}
"""


def ensure_nginx() -> str:
    """The nginx executable; installed from Debian (apt-get) when it is missing."""
    return ensure_executable("nginx", "nginx")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _write_payloads(www: Path) -> dict[str, int]:
    """Generate the payloads; return their sizes in bytes."""
    small = {
        "id": "inv_0001",
        "object": "invoice",
        "amount_cents": 4200,
        "currency": "eur",
        "customer": {"id": "cus_42", "name": "Ada Lovelace"},
        "lines": [{"sku": "lexi-1", "quantity": 2}, {"sku": "lexi-2", "quantity": 1}],
        "status": "open",
        "created": "2026-05-09T07:35:25Z",
    }
    (www / SMALL_PATH[1:]).write_bytes(json.dumps(small).encode())
    (www / BODY_PATH[1:]).write_bytes(os.urandom(1 << 20))

    # One MB-sized block of distinct lines, repeated: generation stays well under a second.
    def block(template: str, target: int) -> bytes:
        parts: list[str] = []
        size = i = 0
        while size < target:
            part = template % (i, i)
            parts.append(part)
            size += len(part)
            i += 1
        return "".join(parts).encode()

    ndjson = block(
        '{"id":%d,"object":"chunk","choices":[{"index":0,"delta":{"content":"tok %05d"}}]}\n',
        1_000_000,
    )
    sse = block(
        'id: %d\ndata: {"object":"chunk","delta":{"content":"token %06d of the reply"}}\n\n',
        1_000_000,
    )
    (www / NDJSON_SMALL_PATH[1:]).write_bytes(ndjson)
    for path, size in ((NDJSON_PATH, _NDJSON_BYTES), (NDJSON_RATE_PATH, _NDJSON_RATE_BYTES)):
        with (www / path[1:]).open("wb") as out:
            for _ in range(size // len(ndjson)):
                out.write(ndjson)
    with (www / SSE_PATH[1:]).open("wb") as out:
        for _ in range(_SSE_BYTES // len(sse)):
            out.write(sse)
    return {f"/{path.name}": path.stat().st_size for path in www.iterdir()}


class Upstream:
    """A private nginx: :meth:`start` it, read :meth:`url`, :meth:`stop` it (idempotent)."""

    def __init__(self, *, cpu: int | None) -> None:
        self._cpu = cpu
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.sizes: dict[str, int] = {}
        self.version = ""

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this upstream."""
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        """Generate the payloads, write the configuration, start nginx and wait until it
        answers. Stopped at interpreter exit even if the caller forgets."""
        executable = ensure_nginx()
        atexit.register(self.stop)
        self._root = root = Path(tempfile.mkdtemp(prefix="lexigram-bench-nginx-"))
        # The worker runs as an unprivileged user when we are root: it must read the files.
        root.chmod(0o755)
        (root / "tmp").mkdir()
        www = root / "www"
        www.mkdir()
        self.sizes = _write_payloads(www)
        self.port = _free_port()
        affinity = "auto" if self._cpu is None else format(1 << self._cpu, "b")
        (root / "nginx.conf").write_text(
            _CONFIG.format(
                root=root,
                port=self.port,
                affinity=affinity,
                error_path=ERROR_PATH,
                # nginx's default worker user is nobody; say so, to keep it explicit.
                user="user nobody nogroup;" if os.geteuid() == 0 else "",
            )
        )
        version = subprocess.run([executable, "-v"], capture_output=True, text=True)
        self.version = version.stderr.strip().removeprefix("nginx version: ")
        self._process = subprocess.Popen(
            [executable, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", "stderr"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(root / "stderr.log").open("wb"),
            # Its own session: a Ctrl-C reaches only us, and we stop nginx in order.
            start_new_session=True,
        )
        if self._cpu is not None:
            os.sched_setaffinity(self._process.pid, {self._cpu})  # the master too
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._process is not None
        assert self._root is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = (self._root / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited with {self._process.returncode}:\n{log}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        raise RuntimeError("nginx did not start listening within 15 s")

    def requests_served(self) -> int:
        """Requests nginx has served so far (``stub_status``; this query included)."""
        with urllib.request.urlopen(self.url("/nginx_status"), timeout=5) as response:
            text = response.read().decode()
        # "Active connections: N\nserver accepts handled requests\n A H R\n..."
        return int(text.splitlines()[2].split()[2])

    def stop(self) -> None:
        """Stop nginx by its PID and delete the temporary directory; idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # fast shutdown, workers included
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
