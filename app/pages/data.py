"""Data: upload SSDA903 files (or a one-row-per-child CSV) and a carers register, see the
validation result before the data are used, and switch between the demo and uploaded data."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html, no_update

from app.auth import Permission, require
from app.callbacks import callback
from app.components import error_alert, fmt_int
from app.data.state import store
from app.data.store import census_choices, load_dataset
from app.data.uploads import decode_contents, store_upload
from app.ids import Id
from geo.errors import PlacemapError
from geo.writing import csv_bytes


def layout(**_kwargs: Any) -> html.Div:
    s = store()
    limit = s.settings.max_upload_mb
    return html.Div(
        [
            html.H1("Data", className="page-title"),
            html.P(
                [
                    "Upload your SSDA903 return — the DfE XML file, an Excel workbook, or CSV "
                    "files: ",
                    html.B("Episodes"),
                    " (required), ",
                    html.B("Header"),
                    " and ",
                    html.B("UASC"),
                    " (optional) — or one CSV with a row "
                    "per child (CHILD, HOME_POST, PL_POST, …), and optionally a ",
                    html.B("carers register"),
                    " (on its own, it is paired with the placements in use). Files are "
                    "recognised by their columns. Every row is either used "
                    "or listed below with the reason. Nothing is used until you press ",
                    html.I("Use this data"),
                    ".",
                ],
                className="lead-text",
            ),
            # The label names the file input inside the upload box (its only name otherwise is
            # the browser's "Choose Files") and opens the file chooser; the box's own click
            # handler is off so the chooser opens once.
            html.Label(
                dcc.Upload(
                    id=Id.DT_UPLOAD_PLACEMENTS,
                    multiple=True,
                    max_size=limit * 1024 * 1024,
                    disable_click=True,
                    children=html.Span(
                        [
                            html.B("Choose CSV, XML or XLSX files to upload"),
                            f" (up to {limit} MB each), or drag and drop them here",
                        ]
                    ),
                    className="upload-box",
                ),
                className="upload-label mb-3",
            ),
            html.Div(id=Id.DT_ALERT),
            dcc.Loading(html.Div(id=Id.DT_RESULT)),
            dcc.Store(id=Id.DT_PENDING),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Button("Use this data", id=Id.DT_USE, color="primary", disabled=True),
                        width="auto",
                    ),
                    dbc.Col(
                        dbc.Button(
                            "Back to the demo data", id=Id.DT_DEMO, color="secondary", outline=True
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        # offered only while an upload is in use (delete_offered below)
                        html.Div(
                            dbc.Button(
                                "Delete the uploaded data in use",
                                id=Id.DT_DELETE,
                                color="danger",
                                outline=True,
                                title="Removes the uploaded files from this server for good",
                            ),
                            id=Id.DT_DELETE_BOX,
                            hidden=True,
                        ),
                        width="auto",
                    ),
                    dbc.Col(
                        dbc.Button(
                            "Download rejected rows (CSV)",
                            id=Id.DT_REJECTS_BTN,
                            color="link",
                            disabled=True,
                        ),
                        width="auto",
                    ),
                ],
                className="g-2 mt-2",
            ),
            html.Div(id=Id.DT_DELETED),
            dcc.Download(id=Id.DT_REJECTS_DL),
            html.Div(
                [
                    html.H2("Census date", className="section-title"),
                    dbc.Label(
                        "Census date (as at) used by every page, report and the trend",
                        html_for=Id.DT_CENSUS,
                    ),
                    # options and value: the dataset in use (census_control below)
                    dbc.Select(
                        id=Id.DT_CENSUS, options=[], value=None, style={"maxWidth": "20rem"}
                    ),
                    html.P(id=Id.DT_CENSUS_NOTE, className="muted mt-1"),
                ],
                className="card-panel mt-3",
            ),
        ]
    )


def upload_root() -> Path:
    from app.data.uploads import upload_root as root

    return root(store().settings)


@callback(
    Output(Id.DT_RESULT, "children"),
    Output(Id.DT_ALERT, "children"),
    Output(Id.DT_PENDING, "data"),
    Output(Id.DT_USE, "disabled"),
    Output(Id.DT_REJECTS_BTN, "disabled"),
    Input(Id.DT_UPLOAD_PLACEMENTS, "contents"),
    State(Id.DT_UPLOAD_PLACEMENTS, "filename"),
    State(Id.DATASET, "data"),
    prevent_initial_call=True,
)
def validate_upload(
    contents: list[str] | None, names: list[str] | None, in_use: str | None = None
) -> tuple[Any, Any, Any, bool, bool]:
    """Store the uploads server-side, validate them and show what was accepted and rejected.
    A carers register uploaded on its own is paired with the placements of the data in use."""
    user = require(Permission.UPLOAD)
    if not contents:
        return no_update, no_update, no_update, True, True
    s = store()
    try:
        limit = s.settings.max_upload_mb * 1024 * 1024
        parts = [
            (n, decode_contents(c, name=n, max_bytes=limit))
            for c, n in zip(contents, names or [], strict=False)
        ]
        paired = s.get(in_use) if carers_alone(parts) else None
        if paired is not None:
            parts = placement_parts(paired) + parts
        stored = store_upload(
            upload_root(), parts, uploaded_by=user.name, max_rows=s.settings.max_upload_rows
        )
        try:
            ds = load_dataset(
                stored.files,
                label=(
                    f"{paired.label} with the carers register {stored.original_names['carers']}"
                    if paired is not None
                    else "Uploaded: " + ", ".join(stored.original_names.values())
                ),
                synthetic=False,  # a register paired with the demo may hold real carers
                dataset_id=stored.dataset_id,
                max_mb=s.settings.max_xml_mb,
                authority=s.authority,
                as_at=paired.as_at if paired is not None else None,
            )
            if paired is not None and ds.as_at is not None:
                from app.data.uploads import set_upload_census

                set_upload_census(upload_root(), ds.id, ds.as_at)  # the census in use stays
            analysis = analysis_for(ds)
        except BaseException:
            from app.data.uploads import delete_upload

            delete_upload(upload_root(), stored.dataset_id)
            raise
        s.add(ds)
    except Exception as err:
        return None, error_alert(err), None, True, True
    return (
        validation_report(ds, analysis, stored.original_names, paired_with=paired),
        None,
        ds.id,
        False,
        bool(len(ds.data.rejects) == 0),
    )


def carers_alone(parts: list[tuple[str, bytes]]) -> bool:
    """True when every uploaded file is a carers register (recognised by its columns)."""
    from app.data.uploads import guess_role

    return bool(parts) and all(guess_role(name, raw) == "carers" for name, raw in parts)


def placement_parts(ds: Any) -> list[tuple[str, bytes]]:
    """The placement files (Episodes or the return, Header, UASC) of the dataset ``ds``, as
    upload parts: a carers register uploaded alone is stored with them as one dataset. A data
    folder (the demo, ``--data``) gives the placement tables among its files. Raises
    InputError when it holds more than one file of a table (several years)."""
    from app.data.uploads import guess_role
    from geo.errors import InputError

    paths = [p for role, p in ds.files.items() if role != "carers"]
    found: dict[str, tuple[str, bytes]] = {}
    for path in paths:
        for file in sorted(path.iterdir()) if path.is_dir() else [path]:
            if not file.is_file():
                continue
            raw = file.read_bytes()
            try:
                role = guess_role(file.name, raw)
            except InputError:  # a read-me or another table placemap does not use
                continue
            if role == "carers":
                continue
            if role in found:
                raise InputError(
                    f"The data in use ({ds.label}) has more than one {role} file, so a carers "
                    "register cannot be paired with it on its own: upload the register together "
                    "with the placement files."
                )
            found[role] = (file.name, raw)
    return list(found.values())


ROLE_NAMES = {"episodes": "Episodes", "header": "Header", "uasc": "UASC", "carers": "Carers"}


def analysis_for(ds: Any) -> Any:
    from geo.measures import analyse

    # the key and date DatasetStore.analysis uses: the validation shows the dataset's census
    return ds.cached(
        ("analysis", ds.as_at), lambda: analyse(ds.data, store().authority, as_at=ds.as_at)
    )


def validation_report(
    ds: Any, analysis: Any, names: dict[str, str], *, paired_with: Any = None
) -> html.Div:
    rows = analysis.summary["placements_rows"]
    read = ds.data.rows_read
    lines = [
        html.Li(
            [
                html.B(f"{ROLE_NAMES.get(role, role.title())}: "),
                f"{names.get(role, '')} — "
                f"{fmt_int(read.get(role if role != 'episodes' else 'placements', 0))} rows",
            ]
        )
        for role in names
        if role != "carers"
    ]
    if paired_with is not None:
        as_at = f" (census at {paired_with.as_at:%d %B %Y})" if paired_with.as_at else ""
        lines.insert(
            0,
            html.Li(
                [
                    html.B("Paired with: "),
                    f"the carers register is used with the placements of {paired_with.label}"
                    f"{as_at}, the data in use when it was uploaded.",
                ],
                id="dt-paired",
            ),
        )
    if ds.carers is not None:
        lines.append(
            html.Li(
                [
                    html.B("Carers: "),
                    f"{names.get('carers', '')} — "
                    f"{fmt_int(getattr(ds.carers, 'rows_read', 0))} rows, "
                    f"{fmt_int(len(getattr(ds.carers, 'rejects', [])))} rejected",
                ]
            )
        )
    rejects = ds.data.rejects
    if ds.carers is not None and len(getattr(ds.carers, "rejects", [])):
        import pandas as pd

        rejects = pd.concat([rejects, ds.carers.rejects], ignore_index=True)
    table = (
        dbc.Table.from_dataframe(
            rejects.head(50), size="sm", striped=True, className="rejects-table"
        )
        if len(rejects)
        else html.P("No rows rejected.", className="muted")
    )
    return html.Div(
        [
            dbc.Alert(
                [
                    html.B("Validated. "),
                    f"{fmt_int(rows['read'])} placement rows read: {fmt_int(rows['in_census'])} "
                    f"children in the census at {analysis.as_at:%d %B %Y}, "
                    f"{fmt_int(rows['not_current'])} episodes not current, "
                    f"{fmt_int(rows['rejected'])} rows rejected.",
                ],
                color="success" if rows["rejected"] == 0 else "warning",
                className="mb-2",
            ),
            html.Ul(lines, className="mb-2"),
            html.H2("Rejected rows (first 50)", className="section-title")
            if len(rejects)
            else None,
            table,
        ],
        className="card-panel",
        id="validation-report",
    )


@callback(Output(Id.DT_DELETE_BOX, "hidden"), Input(Id.DATASET, "data"))
def delete_offered(dataset_id: str | None) -> bool:
    """Hidden (True) unless the data in use is an upload: nothing else can be deleted."""
    from app.data.uploads import is_upload_id

    return not is_upload_id(dataset_id)


@callback(
    Output(Id.DATASET, "data", allow_duplicate=True),
    Input(Id.DT_USE, "n_clicks"),
    Input(Id.DT_DEMO, "n_clicks"),
    State(Id.DT_PENDING, "data"),
    prevent_initial_call=True,
)
def switch_dataset(_use: int | None, _demo: int | None, pending: str | None) -> Any:
    if ctx.triggered_id == Id.DT_USE and pending:
        return pending
    if ctx.triggered_id == Id.DT_DEMO:
        return store().default_id()
    return no_update


@callback(
    Output(Id.DT_CENSUS, "options"),
    Output(Id.DT_CENSUS, "value"),
    Output(Id.DT_CENSUS_NOTE, "children"),
    Input(Id.DATASET, "data"),
)
def census_control(dataset_id: str | None) -> tuple[list[dict[str, str]], str | None, str]:
    """The census dates of the data in use (quarter ends and the latest date), its census date
    selected."""
    try:
        ds = store().get(dataset_id)
        dates = census_choices(ds)
    except PlacemapError:
        return [], None, ""
    options = [{"label": f"{d:%d %B %Y}", "value": d.isoformat()} for d in dates]
    note = (
        f"{ds.label}: census at {ds.as_at:%d %B %Y}. The quarter ends are the trend's dates; "
        "the last entry is the latest date in the data."
        if ds.as_at
        else ""
    )
    return options, ds.as_at.isoformat() if ds.as_at else None, note


@callback(
    Output(Id.DATASET, "data", allow_duplicate=True),
    Input(Id.DT_CENSUS, "value"),
    State(Id.DATASET, "data"),
    prevent_initial_call=True,
)
def choose_census(value: str | None, dataset_id: str | None) -> Any:
    """Make the chosen date the census date of the data in use; the dataset id is sent again
    so the banner and every page follow. Nothing happens when the date is already the census
    date (the control being filled in)."""
    if not value:
        return no_update
    s = store()
    ds = s.get(dataset_id)
    when = date.fromisoformat(value)
    if when == ds.as_at:
        return no_update
    s.set_census(ds.id, when)
    return ds.id


@callback(
    Output(Id.DT_REJECTS_DL, "data"),
    Input(Id.DT_REJECTS_BTN, "n_clicks"),
    State(Id.DT_PENDING, "data"),
    prevent_initial_call=True,
)
def download_rejects(_n: int | None, pending: str | None) -> Any:
    require(Permission.UNSUPPRESSED_EXPORT)
    if not _n or not pending:
        return no_update
    ds = store().get(pending)
    return dcc.send_bytes(csv_bytes(ds.data.rejects), "rejected.csv")


@callback(
    Output(Id.DATASET, "data", allow_duplicate=True),
    Output(Id.DT_DELETED, "children"),
    Input(Id.DT_DELETE, "n_clicks"),
    State(Id.DATASET, "data"),
    prevent_initial_call=True,
)
def delete_current(_n: int | None, dataset_id: str | None) -> Any:
    """Delete the uploaded dataset in use (files and caches) and go back to the default data."""
    from app.auth import delete_dataset
    from app.data.uploads import is_upload_id

    if not _n:  # the page being drawn, not a click
        return no_update, no_update
    if not dataset_id or not is_upload_id(dataset_id):
        return no_update, dbc.Alert(
            "The data in use is not an upload: nothing to delete.",
            color="secondary",
            className="mt-2",
        )
    delete_dataset(dataset_id)
    return store().default_id(), dbc.Alert(
        "The uploaded data were deleted from this server.", color="success", className="mt-2"
    )
