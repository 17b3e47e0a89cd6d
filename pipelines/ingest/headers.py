"""Find the header row of a file and map its columns to a template's fields."""
from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from pipelines.ingest.readers import MAX_TITLE_ROWS, Grid
from pipelines.sources import Catalog, Field, Template, normalize_header


@dataclass
class HeaderMatch:
    header_row: int                                   # row_no of the header row
    header_index: int                                 # its position in grid.cells
    fields: dict[str, Field] = field(default_factory=dict)   # grid column -> field
    unknown: dict[str, str] = field(default_factory=dict)    # grid column -> header text (kept as extra)
    missing: list[Field] = field(default_factory=list)       # required fields without a column
    # grid column -> the field another column already holds (its values are compared row by row)
    duplicates: dict[str, Field] = field(default_factory=dict)
    unnamed: list[str] = field(default_factory=list)         # grid columns with no header text

    @property
    def score(self) -> int:
        return len(self.fields)


def _match_row(cells: dict[str, str | None], template: Template, label_of) -> HeaderMatch:
    index = template.header_index()
    m = HeaderMatch(header_row=0, header_index=0)
    taken: set[str] = set()
    keys: set[str] = set()
    for col, text in cells.items():
        key = normalize_header(text) if text is not None else ""
        f = index.get(key)
        if f is not None and f.column not in taken:
            m.fields[col] = f
            taken.add(f.column)
            continue
        if f is not None:
            # A second column for a field already matched is kept, not merged: no silent choice.
            m.duplicates[col] = f
        if not key:
            m.unnamed.append(col)
        label = str(text).strip() if key else label_of(col)
        if label in keys:   # extra_fields is a MAP: two columns headed alike keep both, told apart
            label = f"{label}（{label_of(col)}）"
        keys.add(label)
        m.unknown[col] = label
    return m


def match_header(grid: Grid, template: Template) -> HeaderMatch:
    """The first row among the first six whose cells match the template's headers best."""
    top = grid.cells.head(MAX_TITLE_ROWS + 1)
    best: HeaderMatch | None = None
    for i, row in enumerate(top.iter_rows(named=True)):
        m = _match_row({c: row[c] for c in grid.columns}, template, grid.column_label)
        if best is None or m.score > best.score:
            best = m
            best.header_row, best.header_index = row["row_no"], i
    if best is None:
        return HeaderMatch(header_row=1, header_index=0)
    matched = {f.column for f in best.fields.values()}
    best.missing = [f for f in template.required if f.column not in matched]
    return best


def best_other_template(grid: Grid, catalog: Catalog, folder: HeaderMatch, folder_name: str) -> Template | None:
    """Another template that fits the file better than its folder's (all its required columns
    present, more columns matched): the file was probably dropped into the wrong folder."""
    best, best_score = None, folder.score
    for template in catalog:
        if template.name != folder_name:
            m = match_header(grid, template)
            if not m.missing and m.score > best_score:
                best, best_score = template, m.score
    return best


def data_rows(grid: Grid, header: HeaderMatch) -> pl.DataFrame:
    """The rows below the header, without blank rows and totals rows (合计/总计): they are no records.
    A CSV record that could not be split into fields (``_row`` set) is kept: its row is refused, not lost."""
    body = grid.cells.slice(header.header_index + 1)
    cols = grid.columns
    if not cols:
        return body
    totals = r"^(合\s*计|总\s*计)"
    marked = pl.col("_row").is_not_null() if "_row" in body.columns else pl.lit(False)
    # The first non-blank cell decides; it is nearly always the first column, so the coalesce over
    # every column (a strip per cell) runs only on the rows whose first cell is blank.
    lead = pl.col(cols[0]).str.strip_chars()
    filled = lead.is_not_null() & (lead != "")
    rest = body.filter(~filled)
    if rest.height:
        first = pl.coalesce([
            pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c).str.strip_chars()) for c in cols
        ])
        kept = rest.filter(first.is_not_null() & ~first.str.contains(totals))["row_no"]
        return body.filter((filled & ~lead.str.contains(totals)) | pl.col("row_no").is_in(kept.implode()) | marked)
    return body.filter(filled & ~lead.str.contains(totals))
