"""axe-core in the browser tests: inject the pinned axe.min.js (fetched by ``make axe-core``,
which ``make test`` runs) and return the WCAG 2.2 AA violations of the page as it is now."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's own tag names)
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_path() -> Path | None:
    found = sorted(ROOT.glob(".cache/axe-core-*/axe.min.js"))
    return found[-1] if found else None


def require_axe() -> None:
    """Skip (fail under CI=true, where `make test` must have fetched it) without axe-core."""
    if axe_path() is None:
        message = "axe-core not fetched: run `make axe-core` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@cache
def _source() -> str:
    path = axe_path()
    assert path is not None
    return path.read_text(encoding="utf-8")


def axe_violations(driver) -> list[dict]:
    """Run axe on the current document with the WCAG 2.2 AA tags: one dict per violated rule
    (``id``, ``impact``, ``count`` of nodes and the first few node selectors)."""
    if not driver.execute_script("return typeof window.axe !== 'undefined';"):
        driver.execute_script(_source())
    driver.set_script_timeout(120)
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},"
        "                   resultTypes: ['violations']})"
        "  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
        "     count: v.nodes.length, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' '))}))))"
        "  .catch(e => done([{id: 'axe-error', impact: 'critical', count: 1,"
        "     nodes: [String(e)]}]));",
        WCAG_22_AA,
    )


def summary(violations: list[dict]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}, {v['count']}): {v['nodes']}" for v in violations)
