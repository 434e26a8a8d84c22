"""Load test of the production server: concurrent signed-in sessions doing what people do.

Starts ``placemap serve --production`` (gunicorn, several workers) on 127.0.0.1 with a throwaway
users file and the synthetic demo, signs N sessions in, and for T seconds each session loads
pages (index, ``/_dash-layout``, ``/_dash-dependencies``, the page-content callback) and changes
filters (the map/table callback with random filter values, the comparison table, the banner),
with a think time of 1-5 s between actions (someone reading the map). Reports p50/p95/max latency per kind of request and the
number of errors (any status other than 200/204, or a failed connection). Exit code 1 on errors.

    .venv/bin/python -m benchmarks.load_test                      # 50 sessions, 60 s, 2 workers
    .venv/bin/python -m benchmarks.load_test --sessions 20 --seconds 20 --workers 3
    .venv/bin/python -m benchmarks.load_test --url http://127.0.0.1:8050 \
        --user alice --password-env PLACEMAP_LOAD_PASSWORD          # an already running server

Standard library only (threads + http.client); run by hand or by ``make bench``, not in the unit
test run. ``Client`` and ``ProductionServer`` are reused by tests/app/test_production.py.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CLI = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
PAGES = ["/", "/coverage", "/recruitment", "/comparison"]


# -- one browser session ----------------------------------------------------------------------
class Client:
    """One browser session over a keep-alive connection: cookies, CSRF header, Dash callbacks."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout_s = timeout_s
        self.cookies: dict[str, str] = {}
        self.deps: dict[str, dict[str, Any]] = {}
        self._conn: http.client.HTTPConnection | None = None
        self.last_size = 0  # bytes of the last response body (as sent: compressed if it was)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        hdrs = {"Host": f"{self.host}:{self.port}", "Accept": "*/*", **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            reused = self._conn is not None
            if self._conn is None:
                self._conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout_s
                )
            try:
                self._conn.request(method, path, body=body, headers=hdrs)
                resp = self._conn.getresponse()
                data = resp.read()
                self.last_size = len(data)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 0:  # the server closed an idle keep-alive connection
                    continue
                raise
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            if resp.headers.get("Connection", "").lower() == "close":
                self.close()
            return resp.status, dict(resp.headers.items()), data
        raise AssertionError("unreachable")

    def get(self, path: str, *, page: bool = False) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers={"Accept": "text/html"} if page else None)

    def post_json(self, path: str, doc: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request(
            "POST",
            path,
            body=json.dumps(doc).encode(),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.cookies.get("_csrf_token", ""),
                "Origin": f"http://{self.host}:{self.port}",
            },
        )

    def sign_in(self, name: str, password: str) -> int:
        status, _, page = self.get("/login", page=True)
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if token is None:
            return status
        form = (
            f"username={name}&password={password}&csrf_token={token.group(1).decode()}&next=/"
        ).encode()
        status, _, _ = self.request(
            "POST",
            "/login",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://{self.host}:{self.port}",
            },
        )
        return status

    def load_dependencies(self) -> int:
        status, _, data = self.get("/_dash-dependencies")
        if status == 200:
            self.deps = {d["output"]: d for d in json.loads(data)}
        return status

    def callback(self, output_part: str, values: dict[str, Any]) -> tuple[int, Any]:
        """Call the callback whose output contains ``output_part``, inputs from ``values``."""
        status, _, data = self.post_json(
            "/_dash-update-component", callback_body(self.deps, output_part, values)
        )
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None


def callback_body(
    deps: dict[str, dict[str, Any]], output_part: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The JSON Dash's renderer posts to ``/_dash-update-component`` for one callback."""
    output = output_part if output_part in deps else next(o for o in deps if output_part in o)
    dep = deps[output]
    multi = output.startswith("..")
    parts = output[2:-2].split("...") if multi else [output]
    outs = [
        {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts
    ]

    def spec(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "id": i["id"],
                "property": i["property"],
                "value": values.get(f"{i['id']}.{i['property']}"),
            }
            for i in items
        ]

    return {
        "output": output,
        "outputs": outs if multi else outs[0],
        "inputs": spec(dep["inputs"]),
        "state": spec(dep["state"]),
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]][:1],
    }


def components(tree: Any) -> dict[str, dict[str, Any]]:
    """Props of every component with a string id in a Dash layout (JSON)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if isinstance(props.get("id"), str):
                    found[props["id"]] = props
                for v in props.values():
                    walk(v)

    walk(tree)
    return found


# -- the production server --------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ProductionServer:
    """``placemap serve --production`` on 127.0.0.1 with throwaway users, for tests and load."""

    workdir: Path
    workers: int = 2
    threads: int = 4
    cache_dir: Path | None = None
    warm_up: bool = True  # prepare the demo and boundaries in the master before forking
    port: int = field(default_factory=free_port)
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (role, password)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PLACEMAP_SECRET_KEY": secrets.token_urlsafe(48),
            "PLACEMAP_USERS_FILE": str(self.workdir / "state" / "users.json"),
            "PLACEMAP_UPLOAD_DIR": str(self.workdir / "uploads"),
            "PLACEMAP_CACHE_DIR": str(self.cache_dir or self.workdir / "cache"),
            "PLACEMAP_COOKIE_SECURE": "0",  # plain http on 127.0.0.1 in tests
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, *, timeout_s: float = 90.0) -> ProductionServer:
        from app.auth import UserStore

        store = UserStore(self.workdir / "state" / "users.json")
        for name, (role, password) in self.users.items():
            if store.get(name) is None:
                store.add(name, role=role, password=password)
        self.log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CLI,
                "serve",
                "--production",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                *([] if self.warm_up else ["--no-warm-up"]),
            ],
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(self.worker_pids()) >= self.workers:
                    return self
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start in {timeout_s:.0f} s:\n{self.output()}")

    def output(self) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if getattr(self, "log", None) is not None:
            self.log.close()

    def __enter__(self) -> ProductionServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the load ---------------------------------------------------------------------------------
@dataclass
class Results:
    latencies_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    sizes: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, ok: bool, detail: str = "", size: int = 0) -> None:
        with self.lock:
            self.latencies_s[kind].append(seconds)
            self.sizes[kind].append(size)
            if not ok:
                self.errors[kind] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{kind}: {detail}")


def timed(results: Results, kind: str, call: Any, client: Client | None = None) -> Any:
    """Time ``call()`` (which returns ``(status, ...)``) as one request of ``kind``; with
    ``client``, also record the size of the response body it received."""
    start = time.perf_counter()
    try:
        status, *rest = call()
    except Exception as err:  # noqa: BLE001  (a failed connection is an error to count)
        results.add(kind, time.perf_counter() - start, False, repr(err))
        return None
    ok = status in (200, 204) if kind != "sign_in" else status == 302
    size = client.last_size if client is not None else 0
    results.add(kind, time.perf_counter() - start, ok, f"HTTP {status}", size)
    return (status, *rest) if ok else None


def short(output: str) -> str:
    """A callback's first output id, for the report (``ov-map`` for the overview map)."""
    return output.strip(".").split("...")[0].rsplit(".", 1)[0]


class Session:
    """One simulated user: signs in, opens pages and changes filters until the deadline.

    Like Dash's renderer: opening a page fetches the shell, the page content, then fires every
    callback of the page whose inputs are all on it (those without ``prevent_initial_call``);
    changing a filter picks a new option in one dropdown/radio and fires the callbacks that
    take it as input.
    """

    def __init__(self, url: str, user: str, password: str, results: Results, seed: int) -> None:
        self.client = Client(url)
        self.user, self.password = user, password
        self.results = results
        self.rng = random.Random(seed)
        self.dataset: str | None = None
        self.props: dict[str, dict[str, Any]] = {}
        self.geometry: set[str] = set()  # map geometry URLs the page's figures name
        self.fetched: set[str] = set()  # ... and those this browser has (its HTTP cache)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset-id.data": self.dataset}
        for cid, props in self.props.items():
            out.update({f"{cid}.{k}": v for k, v in props.items()})
        return out

    def page_callbacks(self) -> list[str]:
        on_page = set(self.props) | {"dataset-id"}
        return [
            output
            for output, dep in self.client.deps.items()
            if not dep.get("prevent_initial_call")
            and {i["id"] for i in dep["inputs"]} <= on_page
            and {i["id"] for i in dep["inputs"]} & set(self.props)
        ]

    def open_page(self, path: str) -> None:
        r, c = self.results, self.client
        timed(r, "page_html", lambda: c.get(path, page=True))
        timed(r, "dash_layout", lambda: c.get("/_dash-layout"))
        timed(r, "dash_dependencies", lambda: (c.load_dependencies(),))
        got = timed(
            r,
            "page_content",
            lambda: c.callback(
                "_pages_content.children",
                {"_pages_location.pathname": path, "_pages_location.search": ""},
            ),
        )
        self.props = {}
        if got and got[1]:
            self.props = components(got[1]["response"]["_pages_content"]["children"])
        got = timed(
            r,
            "ensure_dataset",
            lambda: c.callback(
                "dataset-id.data", {"url.pathname": path, "dataset-id.data": self.dataset}
            ),
        )
        if got and got[1]:
            self.dataset = got[1]["response"]["dataset-id"]["data"]
        timed(
            r,
            "banner",
            lambda: c.callback("dataset-badge.children", {"dataset-id.data": self.dataset}),
        )
        for output in self.page_callbacks():
            got = timed(
                r, f"load {short(output)}", lambda o=output: c.callback(o, self.values()), c
            )
            self.absorb(got)
        for url in sorted(self.geometry - self.fetched):  # the browser's cache keeps them
            self.fetched.add(url)
            timed(r, "map_geometry", lambda u=url: c.get(u), c)

    def absorb(self, got: Any) -> None:
        """Keep a callback's outputs as the browser would (stores, options, values), and note
        the map geometry URLs its figures name; patches are applied in a real browser only."""
        if not got or not isinstance(got[1], dict):
            return
        for cid, props in (got[1].get("response") or {}).items():
            for prop, value in props.items():
                if isinstance(value, dict) and "__dash_patch_update" in value:
                    continue
                if prop == "figure" and isinstance(value, dict):
                    self.geometry |= {
                        t["geojson"]
                        for t in value.get("data", [])
                        if isinstance(t.get("geojson"), str)
                    }
                    continue
                if cid in self.props and prop in ("data", "options", "value"):
                    self.props[cid][prop] = value

    def change_filter(self) -> bool:
        """Pick another option in one filter and fire its callbacks; False if none on page."""
        filters = [
            cid
            for cid, props in self.props.items()
            if isinstance(props.get("options"), list) and len(props["options"]) > 1
        ]
        callbacks = self.page_callbacks()
        usable = [
            cid
            for cid in filters
            if any(
                {"id": cid, "property": "value"} in self.client.deps[o]["inputs"] for o in callbacks
            )
        ]
        if not usable:
            return False
        cid = self.rng.choice(usable)
        choice = self.rng.choice(self.props[cid]["options"])
        self.props[cid]["value"] = choice.get("value") if isinstance(choice, dict) else choice
        for output in callbacks:
            if {"id": cid, "property": "value"} in self.client.deps[output]["inputs"]:
                got = timed(
                    self.results,
                    f"filter {short(output)}",
                    lambda o=output: self.client.callback(o, self.values()),
                    self.client,
                )
                self.absorb(got)
        return True

    def signed_in(self) -> bool:
        return bool(
            timed(self.results, "sign_in", lambda: (self.client.sign_in(self.user, self.password),))
        )

    def warm(self) -> None:
        """Open every page and change a filter on each (fills this worker's caches)."""
        if self.signed_in():
            for path in PAGES:
                self.open_page(path)
                self.change_filter()
        self.client.close()

    def run(self, deadline: float, think_s: tuple[float, float]) -> None:
        if not self.signed_in():
            return
        self.open_page(self.rng.choice(PAGES))
        while time.monotonic() < deadline:
            time.sleep(self.rng.uniform(*think_s))
            if time.monotonic() >= deadline:
                break
            if self.rng.random() < 0.25 or not self.change_filter():
                self.open_page(self.rng.choice(PAGES))
        self.client.close()


def run_load(
    url: str,
    *,
    user: str,
    password: str,
    sessions: int,
    seconds: float,
    think_s: tuple[float, float] = (1.0, 5.0),
    ramp_s: float = 5.0,
) -> Results:
    results = Results()
    deadline = time.monotonic() + seconds
    threads = []
    for i in range(sessions):
        s = Session(url, user, password, results, seed=i)
        t = threading.Thread(target=s.run, args=(deadline, think_s), daemon=True)
        threads.append(t)
        t.start()
        time.sleep(ramp_s / max(1, sessions))
    for t in threads:
        t.join(timeout=seconds + 300)
    return results


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(results: Results, *, sessions: int, seconds: float, workers: int | None) -> str:
    lines = [
        f"placemap load test: {sessions} sessions, {seconds:.0f} s"
        + (f", {workers} gunicorn workers" if workers else ""),
        f"{'request':<20}{'count':>8}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
        f"{'max KB':>10}",
    ]
    every: list[float] = []
    for kind in sorted(results.latencies_s):
        lat = results.latencies_s[kind]
        every += lat
        lines.append(
            f"{kind:<20}{len(lat):>8}{results.errors[kind]:>8}"
            f"{percentile(lat, 50) * 1000:>10.0f}{percentile(lat, 95) * 1000:>10.0f}"
            f"{max(lat) * 1000:>10.0f}{max(results.sizes[kind] or [0]) / 1000:>10.1f}"
        )
    total_errors = sum(results.errors.values())
    lines.append(
        f"{'all':<20}{len(every):>8}{total_errors:>8}"
        f"{percentile(every, 50) * 1000:>10.0f}{percentile(every, 95) * 1000:>10.0f}"
        f"{(max(every) if every else 0) * 1000:>10.0f}"
    )
    lines.append(f"throughput: {len(every) / seconds:.1f} requests/s")
    lines += [f"error: {e}" for e in results.examples]
    return "\n".join(lines)


@contextlib.contextmanager
def server_for(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    if args.url:
        yield args.url, args.user, os.environ.get(args.password_env, "")
        return
    with tempfile.TemporaryDirectory(prefix="placemap-load-") as tmp:
        password = secrets.token_urlsafe(18)
        cache = Path(args.cache_dir) if args.cache_dir else None
        server = ProductionServer(
            Path(tmp),
            workers=args.workers,
            threads=args.threads,
            cache_dir=cache,
            users={"load": ("commissioner", password)},
        )
        with server:
            # warm every worker (demo data, boundaries, first analysis) before timing
            warm = [
                threading.Thread(
                    target=Session(server.url, "load", password, Results(), seed=-i).warm
                )
                for i in range(2 * args.workers)
            ]
            for t in warm:
                t.start()
            for t in warm:
                t.join()
            yield server.url, "load", password


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 5.0),
        metavar=("MIN", "MAX"),
        help="seconds a user looks at the screen between actions (default 1 5)",
    )
    p.add_argument("--cache-dir", help="reuse a cache (demo data, boundaries) between runs")
    p.add_argument("--url", help="test a running server instead of starting one")
    p.add_argument("--user", default="load")
    p.add_argument("--password-env", default="PLACEMAP_LOAD_PASSWORD")
    args = p.parse_args(argv)
    with server_for(args) as (url, user, password):
        results = run_load(
            url,
            user=user,
            password=password,
            sessions=args.sessions,
            seconds=args.seconds,
            think_s=tuple(args.think),
        )
    print(
        report(
            results,
            sessions=args.sessions,
            seconds=args.seconds,
            workers=None if args.url else args.workers,
        )
    )
    return 1 if sum(results.errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
