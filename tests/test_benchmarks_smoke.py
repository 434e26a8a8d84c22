"""The benchmark runner still runs: ``--quick`` on the Kent demo, every case, tiny sizes.

No timing is asserted (the machine is shared); only that every case ran, its correctness
checks held, the results were written and the user's cache was left alone.
"""

from __future__ import annotations

import json
import os

from benchmarks import run


def test_quick_benchmark_run_writes_every_case(tmp_path, monkeypatch, capsys):
    user_cache = tmp_path / "user-cache"
    monkeypatch.setenv("PLACEMAP_CACHE_DIR", str(user_cache))
    out = tmp_path / "results"

    assert run.main(["--quick", "--out", str(out)]) == 0

    doc = json.loads((out / "quick.json").read_text())
    assert doc["mode"] == "quick"
    assert [c["case"] for c in doc["cases"]] == list(run.QUICK_CASES)
    assert all(not c["error"] and c["rows"] for c in doc["cases"])
    checks = [k for c in doc["cases"] for k in c["checks"]]
    assert checks and all(k["ok"] for k in checks)
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["python"]
    markdown = (out / "quick.md").read_text()
    assert "| # | benchmark |" in markdown and markdown in capsys.readouterr().out
    assert not user_cache.exists()  # the runner used its own throwaway cache
    assert os.environ["PLACEMAP_CACHE_DIR"] == str(user_cache)  # restored afterwards
