"""Figure builders: pure functions from tables to plotly figures."""

from app.figures import wrap_note


def test_long_source_notes_wrap_at_spaces_and_keep_every_word():
    note = (
        "Contains OS data © Crown copyright and database right 2025. Contains National "
        "Statistics data © Crown copyright and database right 2025."
    )
    wrapped = wrap_note(note, width=60)
    lines = wrapped.split("<br>")
    assert len(lines) >= 2 and all(len(line) <= 60 for line in lines)
    assert " ".join(lines) == note
    assert wrap_note("short note") == "short note"
    assert wrap_note("") == ""


def test_district_bars_label_suppressed_and_zero_bars_beside_them():
    import numpy as np
    import pandas as pd

    from app.figures import district_bars

    t = pd.DataFrame({"district_name": ["A", "B", "C"], "pct": [85.0, np.nan, 0.0]})
    bar = district_bars(t, value_col="pct", target=80, title="t", value_label="v").data[0]
    labels = dict(zip(bar.y, zip(bar.text, bar.textposition, strict=True), strict=True))
    assert labels == {"A": ("85.0 %", "inside"), "B": ("c", "outside"), "C": ("0.0 %", "outside")}
