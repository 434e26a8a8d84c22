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
