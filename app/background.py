"""Long work in the app: Dash background callbacks with a progress bar and a Cancel button.

A callback declared with ``background=True`` runs in a child process started by Dash's
:class:`dash.DiskcacheManager` (results, progress and the job's process id go through a
``diskcache`` folder under the cache folder), so the web worker that received the click is free
at once, the browser polls for progress, and Cancel kills the child: the server's own data is
untouched (the child works on a copy), and nothing is written until the work has finished. The
folder is shared by every gunicorn worker of a server (diskcache is SQLite plus files, safe across
processes), so a poll may be answered by any worker.

The child's results live in its own memory, which ends with it; :func:`shared` hands the small
results a page asks for again (a recruitment plan, its baselines) to the server through the same
folder, keyed by the dataset and when it was loaded, so the page does not repeat the work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
import diskcache
import flask
from dash import DiskcacheManager, html

from app.components import attrs
from app.settings import Settings
from geo.progress import Progress, Stage
from geo.writing import user_cache_dir

CACHE_KEY = "PLACEMAP_BACKGROUND_CACHE"
SHARED_SECONDS = 3600  # how long a handed-over result is kept (the dataset cache is the LRU)
PROGRESS_EVERY_S = 0.25  # the browser polls about once a second: no need to write more often


def cache_folder(settings: Settings) -> Path:
    """The background callbacks' folder: ``dash-background`` under the cache folder."""
    folder = (settings.cache_dir or user_cache_dir()) / "dash-background"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def manager(settings: Settings) -> tuple[DiskcacheManager, diskcache.Cache]:
    """Dash's background callback manager on the settings' cache folder, and its cache."""
    cache = diskcache.Cache(str(cache_folder(settings)))
    return DiskcacheManager(cache), cache


def _cache() -> diskcache.Cache | None:
    if not flask.has_app_context():
        return None
    return flask.current_app.config.get(CACHE_KEY)


def shared(ds: Any, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``compute()``, or the value a background child computed for the same dataset and
    ``key`` (then handed over through the cache folder). Use inside ``Dataset.cached``."""
    cache = _cache()
    if cache is None:
        return compute()
    disk_key = ("placemap-shared", ds.id, ds.created.isoformat(), *key)
    value = cache.get(disk_key, default=None)
    if value is None:
        value = compute()
        cache.set(disk_key, value, expire=SHARED_SECONDS)
    return value


def reporter(set_progress: Callable[[tuple[int, str]], None]) -> Progress:
    """A library ``progress`` callback that shows each :class:`Stage` through Dash's
    ``set_progress`` as (percent for the bar, a sentence), at most every quarter second unless
    the stage changes."""
    last: list[Any] = ["", 0.0]  # stage name, when shown

    def show(stage: Stage) -> None:
        now = time.monotonic()
        if stage.name == last[0] and now - last[1] < PROGRESS_EVERY_S:
            return
        last[:] = [stage.name, now]
        set_progress(progress_value(stage))

    return show


def progress_value(stage: Stage) -> tuple[int, str]:
    """(percent, words): "choosing sites for 10 households among 260 sectors: 3 of 10
    households" (the bar stays at 0 when the amount of work is not known)."""
    text = stage.name[:1].upper() + stage.name[1:]
    if stage.total:
        pct = int(100 * min(stage.done, stage.total) / stage.total)
        unit = f" {stage.unit}" if stage.unit else ""
        return pct, f"{text}: {stage.done:,} of {stage.total:,}{unit}"
    return 0, f"{text}…"


def progress_panel(
    *, wrapper_id: str, bar_id: str, text_id: str, cancel_id: str, what: str
) -> html.Div:
    """A hidden panel shown while ``what`` ("the search") runs: a labelled progress bar, the
    stage in words and a Cancel button. The callback's ``running=`` shows and hides it."""
    return html.Div(
        [
            html.Progress(
                id=bar_id,
                value="0",
                max="100",
                className="background-progress",
                **attrs({"aria-label": f"Progress of {what}"}),
            ),
            html.P(id=text_id, className="mb-1 small"),
            dbc.Button(
                f"Cancel {what}",
                id=cancel_id,
                color="secondary",
                outline=True,
                size="sm",
            ),
        ],
        id=wrapper_id,
        hidden=True,
        className="mb-2",
    )
