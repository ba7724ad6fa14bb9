"""Sales tables as CSV files, for ``keras-gen ask --table sales.csv``.

The format is the rendered table's (:func:`keras_gen.summaries.tables.render_table`)
with commas: a header row whose first cell names the table (any word) and
whose other cells are month abbreviations (``Jan`` ... ``Dec``; full names
such as ``March`` are accepted), then one row per region, its name and an
integer per month::

    region,Mar,Apr,May
    North,41,44,47
    East,62,58,40

Region names are single words (the analyst's queries separate words by
spaces) and may not be month names or the query language's own words.
"""

from __future__ import annotations

import csv
import os

import numpy as np

from keras_gen._files import replacing
from keras_gen.summaries.tables import MONTH_NAMES, SalesTable

#: Words of the query language that cannot name a region.
RESERVED = ("value", "total", "change", "growth", "top", "bottom", "region",
            "month", "jump", "size", "first", "last")
_FULL = {"january": "Jan", "february": "Feb", "march": "Mar", "april": "Apr",
         "june": "Jun", "july": "Jul", "august": "Aug", "september": "Sep",
         "october": "Oct", "november": "Nov", "december": "Dec"}


def _month(cell: str, path: str) -> str:
    word = cell.strip()
    for name in MONTH_NAMES:
        if word.lower() == name.lower():
            return name
    if word.lower() in _FULL:
        return _FULL[word.lower()]
    raise ValueError(
        f"Expected month names (Jan ... Dec) after the first cell of the header "
        f"of {path}. Received: {cell!r}. Write the header as region,Jan,Feb,..."
    )


def _region(cell: str, path: str, line: int) -> str:
    word = cell.strip()
    if not word.isalpha() or word.lower() in RESERVED or word.title() in MONTH_NAMES:
        raise ValueError(
            f"Expected a region name of letters only, not a month or one of "
            f"{list(RESERVED)}, at line {line} of {path}. Received: {cell!r}. "
            "Rename the region (e.g. NorthEast)."
        )
    return word


def read_table(path) -> SalesTable:
    r"""Read a CSV sales table, checking every cell.

    Raises:
        FileNotFoundError: No such file.
        ValueError: The file is not a table of the format above; the message
            names the line and the cell.

    Example:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "sales.csv")
        >>> _ = open(path, "w").write("region,Jan,Feb\nNorth,10,30\nSouth,20,15\n")
        >>> read_table(path).region_totals().tolist()
        [40, 35]
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Expected a CSV sales table. Received: --table {path!r}, which does "
            "not exist. Check the path."
        )
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    except UnicodeDecodeError as error:
        raise ValueError(f"Expected a UTF-8 text file. Received: {path} ({error})") \
            from error
    if len(rows) < 2:
        raise ValueError(
            f"Expected a header row and at least one region row in {path}. "
            f"Received: {len(rows)} non-empty rows."
        )
    months = tuple(_month(c, path) for c in rows[0][1:])
    if len(months) < 2 or len(set(months)) != len(months):
        raise ValueError(
            f"Expected at least 2 different months in the header of {path}. "
            f"Received: {list(months)}"
        )
    regions, values = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(months) + 1:
            raise ValueError(
                f"Expected {len(months) + 1} cells (a region and one value per "
                f"month) at line {line} of {path}. Received: {len(row)} cells."
            )
        regions.append(_region(row[0], path, line))
        try:
            values.append([int(c) for c in row[1:]])
        except ValueError:
            raise ValueError(
                f"Expected whole numbers at line {line} of {path}. Received: "
                f"{row[1:]}"
            ) from None
    if len(set(regions)) != len(regions):
        raise ValueError(f"Expected different region names in {path}. Received: "
                         f"{regions}")
    return SalesTable(tuple(regions), months, np.array(values, dtype="int64"))


def write_table(table: SalesTable, path) -> str:
    """Write a table in the CSV format above, atomically; returns the path.

    Example:
        >>> import tempfile
        >>> from keras_gen.summaries.tables import make_tables
        >>> t = make_tables(1, seed=0)[0]
        >>> read_table(write_table(t, os.path.join(tempfile.mkdtemp(), "t.csv"))) == t
        True
    """
    path = os.fspath(path)
    with replacing(path, suffix=".csv") as partial:
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["region", *table.months])
            for region, row in zip(table.regions, table.values, strict=True):
                writer.writerow([region, *[int(v) for v in row]])
    return path
