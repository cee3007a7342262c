"""A running server whose PostgreSQL goes away answers 503 (and recovers), never 500.

The server talks to PostgreSQL through a TCP relay that the test can cut, as a network
partition or a database restart would.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from storesync.security.keyring import generate_master_key


class Relay:
    """Forwards 127.0.0.1:<port> to PostgreSQL until cut; new connections are refused then."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def cut(self) -> None:
        self.open = False
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.sockets.clear()

    def restore(self) -> None:
        self.open = True


def _get(url: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.postgres
def test_server_answers_503_while_postgres_is_unreachable(tmp_path: Path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    s = connection.settings_dict
    relay = Relay((s["HOST"] or "127.0.0.1", int(s["PORT"] or 5432)))
    db_name = f"storesync_outage_{uuid.uuid4().hex[:8]}"
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(
        STORESYNC_DATA_DIR=str(tmp_path),
        STORESYNC_MASTER_KEY=generate_master_key(),
        STORESYNC_DATABASE_URL=f"postgres://{s['USER']}@127.0.0.1:{relay.port}/{db_name}",
    )
    cli = [sys.executable, "-m", "storesync.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *args], env=env, capture_output=True, text=True, timeout=180, check=True
        )

    run("migrate", "-v", "0")
    run("workspace", "create", "shop", "--name", "Shop", "--owner", "o@shop.example")
    token = run("token", "create", "--workspace", "shop", "--role", "owner").stdout.split()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        assert _get(f"{base}/readyz")[0] == 200
        assert _get(f"{base}/api/v1/customers", token)[0] == 200

        relay.cut()
        status, body = _get(f"{base}/readyz")
        assert status == 503 and body["checks"]["database"].startswith("failed")
        status, body = _get(f"{base}/api/v1/customers", token)
        assert status == 503 and body["error"]["code"] == "unavailable"
        assert _get(f"{base}/healthz")[0] == 200  # the process itself is alive
        request = urllib.request.Request(f"{base}/accounts/login/")
        request.add_header("Cookie", "storesync_session=abc123")  # forces a session lookup
        try:
            page_status = urllib.request.urlopen(request, timeout=15).status
        except urllib.error.HTTPError as err:
            page_status = err.code
        assert page_status in (200, 503)  # the sign-in page may render; never a 500

        relay.restore()
        deadline = time.monotonic() + 20
        while _get(f"{base}/readyz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _get(f"{base}/api/v1/customers", token)[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
        relay.restore()
        with psycopg.connect(
            host=s["HOST"] or "127.0.0.1",
            port=s["PORT"] or 5432,
            user=s["USER"],
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
