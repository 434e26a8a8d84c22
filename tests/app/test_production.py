"""The production server (gunicorn, 2 workers): killing a worker mid-request loses no upload.

An analyst uploads dataset A; a second, larger upload B is in flight when the worker serving it is
SIGKILLed. Afterwards gunicorn has replaced the worker, the session still works, A is on disk and
loads in any worker (including the new one, which never saw it), and B is either complete or not
there at all — never half-written.
"""

from __future__ import annotations

import base64
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from app.data.uploads import META, is_upload_id
from benchmarks.load_test import Client, ProductionServer

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="finds gunicorn workers through /proc (Linux)"
)

PASSWORD = "production test passphrase"
POSTCODES = [
    ("ME14 1XQ", "CT1 2RX"),
    ("ME14 1XQ", "TN1 1RS"),
    ("CT20 2QY", "DA1 1DR"),
    ("TN13 1HG", "DA11 0DQ"),
    ("ME14 1XQ", "ME4 4TR"),
    ("DA12 5UR", "TN8 9EB"),
]


def placements_csv(rows: int) -> bytes:
    lines = ["CHILD,HOME_POST,PL_POST,DECOM"]
    for i in range(rows):
        home, place = POSTCODES[i % len(POSTCODES)]
        lines.append(f"C{i:06d},{home},{place},01/04/2018")
    return ("\n".join(lines) + "\n").encode()


def upload(client: Client, name: str, raw: bytes) -> tuple[int, object]:
    return client.callback(
        "dt-pending.data",
        {
            "dt-upload-placements.contents": [
                "data:text/csv;base64," + base64.b64encode(raw).decode()
            ],
            "dt-upload-placements.filename": [name],
        },
    )


def signed_in(url: str) -> Client:
    client = Client(url, timeout_s=60)
    assert client.sign_in("ana", PASSWORD) == 302
    assert client.load_dependencies() == 200
    return client


def socket_owner(pids: list[int], server_port: int, client_port: int) -> int | None:
    """The worker holding the server side of the connection from ``client_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local, remote = cols[1], cols[2]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                inodes.add(f"socket:[{cols[9]}]")
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


def banner(client: Client, dataset: str) -> str:
    status, doc = client.callback("dataset-badge.children", {"dataset-id.data": dataset})
    assert status == 200, status
    return str(doc)


def test_killing_a_worker_mid_request_loses_no_uploaded_data(tmp_path):
    # no warm-up: this test never touches the demo, only its own uploads
    server = ProductionServer(
        tmp_path, workers=2, threads=2, warm_up=False, users={"ana": ("analyst", PASSWORD)}
    )
    with server:
        ana = signed_in(server.url)
        status, doc = upload(ana, "a.csv", placements_csv(30))
        assert status == 200
        first = doc["response"]["dt-pending"]["data"]
        assert is_upload_id(first)

        # upload B, and SIGKILL the worker serving it while it works
        big = Client(server.url, timeout_s=60)
        big.cookies, big.deps = dict(ana.cookies), ana.deps
        outcome: dict[str, object] = {}

        def send() -> None:
            try:
                outcome["result"] = upload(big, "b.csv", placements_csv(60_000))
            except Exception as err:  # noqa: BLE001  (the connection dies with the worker)
                outcome["error"] = err

        before = server.worker_pids()
        thread = threading.Thread(target=send)
        thread.start()
        victim = None
        deadline = time.monotonic() + 10
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            sock = big._conn.sock if big._conn is not None else None
            if sock is not None:
                victim = socket_owner(before, server.port, sock.getsockname()[1])
            time.sleep(0.01)
        assert victim is not None, "could not find the worker serving the upload"
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=60)
        big.close()
        assert "error" in outcome, f"the upload finished before the kill: {outcome}"

        # gunicorn replaces the worker; the session (signed cookie) is still valid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.2)
        assert len(server.worker_pids()) == 2 and victim not in server.worker_pids()

        # A is complete on disk and loads in every worker, the new one included
        root = tmp_path / "uploads"
        assert (root / first / "episodes.csv").read_bytes() == placements_csv(30)
        for _ in range(6):
            fresh = Client(server.url, timeout_s=60)
            fresh.cookies, fresh.deps = dict(ana.cookies), ana.deps
            assert "Uploaded: a.csv" in banner(fresh, first)
            fresh.close()

        # B is all there or not there at all: never a half-written dataset a worker could load
        for folder in root.iterdir():
            if is_upload_id(folder.name):
                assert (folder / META).is_file() and (folder / "episodes.csv").is_file()
        assert all(is_upload_id(f.name) or f.name.startswith(".tmp-") for f in root.iterdir())
        status, doc = upload(ana, "c.csv", placements_csv(12))  # and uploads still work
        assert status == 200 and is_upload_id(doc["response"]["dt-pending"]["data"])
        ana.close()
