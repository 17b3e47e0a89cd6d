"""Reading the demo's inbox files in tests the way a clerk sees them (shared by the street and city tests)."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl


def inbox_files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.rglob("*") if p.is_file())


def read_table(path: Path, *, drop_total_rows: bool = False) -> tuple[list[str], pl.DataFrame]:
    """Header cells and data of a demo file, all text. A workbook's title rows are skipped (the header is the
    first row with more than three cells); ``drop_total_rows`` also leaves out its 合计 row."""
    if path.suffix == ".xlsx":
        rows = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
        start = next(i for i, r in enumerate(rows) if sum(c is not None for c in r) > 3)
        header = [str(c) for c in rows[start] if c is not None]
        data = [[None if c is None else str(c) for c in r[:len(header)]] for r in rows[start + 1:]
                if not (drop_total_rows and r[0] == "合计")]
        return header, pl.DataFrame(data, schema={h: pl.String for h in header}, orient="row")
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    df = pl.read_csv(text.encode("utf-8"), infer_schema=False)
    return df.columns, df
