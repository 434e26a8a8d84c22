"""Progress on standard error: on a terminal (a real pseudo-terminal), not when piped or --quiet,
timings with --verbose; Ctrl-C (a real SIGINT) stops a run with 130 and leaves the output folder
as it was."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geo.demo import ensure_demo

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")

CLI = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo() -> Path:
    return ensure_demo()  # the cached Kent demo (generated once, a few seconds)


def coverage_argv(demo: Path, out: Path, *extra: str) -> list[str]:
    return [
        *CLI,
        "coverage",
        "--placements",
        str(demo / "episodes.csv"),
        "--header",
        str(demo / "header.csv"),
        "--carers",
        str(demo / "carers.csv"),
        "--out",
        str(out),
        *extra,
    ]


def start_on_terminal(argv: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """Run ``argv`` with standard error on a pseudo-terminal (standard output piped)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL
    )
    os.close(slave)
    return proc, master


def read_terminal(master: int, proc: subprocess.Popen[bytes], *, until: bytes | None) -> bytes:
    """What the program drew on the terminal, up to ``until`` (or to its end)."""
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed (Linux raises EIO)
                break
            if not chunk:
                break
            seen += chunk
            if until is not None and until in seen:
                return seen
        elif proc.poll() is not None:
            break
    return seen


def test_progress_on_a_terminal_with_stages_counts_and_bars(demo, tmp_path):
    proc, master = start_on_terminal(coverage_argv(demo, tmp_path / "out", "--verbose"))
    try:
        drawn = read_terminal(master, proc, until=None).decode("utf-8", "replace")
    finally:
        os.close(master)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    for stage in (
        "reading 2 files",
        "postcodes",
        "listing pairs within 20 miles",
        "writing 5 files",
    ):
        assert stage in drawn, (stage, drawn[-2000:])
    assert re.search(r"checking \d{1,3}(,\d{3})* rows in 2 tables", drawn)  # the demo's rows
    assert re.search(r"matching \d{1,3}(,\d{3})* children to \d{1,3}(,\d{3})* households", drawn)
    assert "━" in drawn  # rich's bar
    assert "0:00:0" in drawn  # --verbose: elapsed time per stage
    # The result goes to standard output, untouched by the progress display.
    assert re.match(r"Kent, as at 30/12/2018: \d+ children", out.decode())


def test_quiet_on_a_terminal_draws_nothing(demo, tmp_path):
    argv = [*CLI, "demo", "--out", str(tmp_path / "demo"), "--quiet"]
    proc, master = start_on_terminal(argv)
    try:
        drawn = read_terminal(master, proc, until=None)
    finally:
        os.close(master)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.startswith(b"Synthetic kent demo")
    assert drawn == b""


def test_piped_is_silent_and_verbose_prints_timings(demo, tmp_path):
    quiet = subprocess.run(
        coverage_argv(demo, tmp_path / "a"), cwd=ROOT, capture_output=True, timeout=120
    )
    assert quiet.returncode == 0 and quiet.stderr == b""
    timed = subprocess.run(
        coverage_argv(demo, tmp_path / "b", "--verbose"),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        text=True,
    )
    assert timed.returncode == 0
    lines = timed.stderr.splitlines()
    assert "placemap: listing pairs within 20 miles: " in timed.stderr
    assert all(line.startswith("placemap: ") and line.endswith(" s") for line in lines), lines
    assert "\x1b[" not in timed.stderr  # plain text for a log, no terminal codes


def test_ctrl_c_stops_with_130_and_leaves_the_folder_as_it_was(demo, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "district_coverage.csv").write_text("an earlier run's table\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc, master = start_on_terminal(coverage_argv(demo, out))
    try:
        drawn = read_terminal(master, proc, until=b"reading 2 files")
        assert b"reading 2 files" in drawn, drawn
        proc.send_signal(signal.SIGINT)
        drawn += read_terminal(master, proc, until=None)
    finally:
        os.close(master)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stdout == b""  # no result line
    assert b"placemap: interrupted; no output was written" in drawn
    assert b"Traceback" not in drawn
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # nothing new, nothing half-written, no temporary files
