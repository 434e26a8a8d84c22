"""Columnar reading of CSV data rows with pyarrow's CSV reader: the fast path of
:func:`geo.ssda903.tables.parse_csv_text`.

It only answers for the files where it gives exactly the table the row-by-row reader
(:mod:`csv`) gives, and returns ``None`` for every other file, which the row-by-row reader
then reads with all its rules. It answers when:

* no field is quoted (no ``"`` in the text), so every record is one physical line and the row
  number a spreadsheet shows is the line number;
* the only whitespace besides line ends is spaces and tabs (Python's ``str.strip`` and Arrow's
  trim agree on them), and there is no NUL and no line longer than :func:`csv.field_size_limit`
  (the :mod:`csv` module refuses both);
* every non-blank line has exactly as many fields as the header. A short row (padded), a long
  row (rejected with its reason, or cut when its extra fields are blank) and a line of blank
  fields (skipped) are the row-by-row reader's to handle.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

# Every character Python's str.isspace() accepts except tab, space and the line ends \n and \r
# (tests/geo/ssda903/test_columnar.py checks the list), plus NUL and the quote: any of these
# sends the file to the row-by-row reader.
OTHER_SPACE = "\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SLOW_CHARS = re.compile(f'[{OTHER_SPACE}\x00"]')


def _line_bounds(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, line end left out) byte offsets of each physical line, with the
    line ends ``\\n``, ``\\r\\n`` and a lone ``\\r`` (as :class:`io.StringIO` with
    ``newline=""`` splits them). A text ending with a line end has no empty last line."""
    b = np.frombuffer(data, dtype=np.uint8)
    nl = b == 10
    cr = b == 13
    cr_alone = cr.copy()
    cr_alone[:-1] &= ~nl[1:]
    term = np.flatnonzero(nl | cr_alone)
    starts = np.concatenate([[0], term + 1])
    ends = np.concatenate([term, [len(b)]])
    crlf = np.zeros(len(term), dtype=bool)
    inner = term > 0
    crlf[inner] = nl[term[inner]] & cr[term[inner] - 1]
    ends[:-1] -= crlf
    if starts[-1] == len(b):  # nothing after the last line end
        starts, ends = starts[:-1], ends[:-1]
    return starts, ends


def read_rows(text: str, *, delimiter: str, width: int) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The data rows of ``text`` (the header is its first line, of ``width`` fields) as a frame
    of stripped ``string`` columns named by position, without blank rows, and their line
    numbers; or ``None`` when the row-by-row reader must read the file (see module docstring).
    """
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency; the slow path still works
        return None
    if _SLOW_CHARS.search(text):
        return None
    data = text.encode("utf-8")
    starts, ends = _line_bounds(data)
    if not len(starts) or ends[0] == starts[0]:
        return None  # a blank first line is not a header: the row-by-row reader says so
    lengths = ends - starts
    if int(lengths.max()) > csv.field_size_limit():
        return None
    filled = np.flatnonzero(lengths[1:] > 0) + 1
    if not len(filled):
        return None
    invalid: list[int] = []

    def skip(row: object) -> str:
        invalid.append(1)
        return "skip"

    names = [f"f{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data[int(starts[1]) :]),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=True,
                invalid_row_handler=skip,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                check_utf8=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if invalid or table.num_rows != len(filled):
        return None
    frame = pd.DataFrame(
        {i: pd.Series(pd.array(table.column(i), dtype="string")).str.strip() for i in range(width)}
    )
    if frame.empty:
        return None
    blank = np.ones(len(frame), dtype=bool)
    for i in range(width):
        blank &= (frame[i] == "").to_numpy(dtype=bool, na_value=False)
    if blank.all():
        return None  # no data rows: the row-by-row reader says so
    if blank.any():
        frame = frame[~blank].reset_index(drop=True)
        filled = filled[~blank]
    return frame, (filled + 1).astype(np.int64)
