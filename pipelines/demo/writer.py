"""Write the demo inbox: CSV in several encodings, small XLSX workbooks with title rows, byte-for-byte reproducible."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl

from pipelines.sources import load_catalog

DATE_FORMATS = ("%Y-%m-%d", "%Y/%-m/%-d", "%Y.%m.%d", "%Y%m%d", "%Y年%-m月%-d日")
FIXED_TIME = dt.datetime(2026, 1, 1)


class Inbox:
    def __init__(self, out: Path, rng: np.random.Generator, as_of: dt.date, folder: str = ""):
        self.out = out
        # A district's folder in front of the template folder; file paths (and the truth's 文件) include it.
        self.folder = f"{folder}/" if folder else ""
        self.rng = rng
        self.as_of = as_of
        self.catalog = load_catalog()
        self.records: list[pl.DataFrame] = []
        self.files: list[str] = []

    def _new_path(self, rel: str) -> Path:
        # Streets of a city share the template folders: a file is never overwritten, so names must differ.
        path = self.out / rel
        if path.exists():
            raise FileExistsError(f"收件箱中已有同名文件：{rel}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def headers(self, template: str, force: dict[str, str] | None = None) -> dict[str, str]:
        """Canonical field name -> the header this file uses (the name or one of its aliases)."""
        out = {}
        for f in self.catalog[template].fields:
            options = (f.name, *f.aliases)
            pick = f.name if self.rng.random() < .6 or len(options) == 1 else options[
                1 + int(self.rng.integers(0, len(options) - 1))]
            out[f.name] = pick
        out.update(force or {})
        return out

    def _text_frame(self, template: str, df: pl.DataFrame, date_format: str, drop=()) -> pl.DataFrame:
        fields = [f for f in self.catalog[template].fields if f.name in df.columns and f.name not in drop]
        cols = []
        for f in fields:
            c = pl.col(f.name)
            if df.schema[f.name] == pl.Date:
                c = c.dt.strftime(date_format)
            c = c.cast(pl.String)
            cols.append(pl.when(c == "").then(None).otherwise(c).alias(f.name))
        text = df.select(cols)
        if "_bad_field" in df.columns:
            for name in df["_bad_field"].drop_nulls().unique().sort().to_list():
                if name in text.columns:
                    text = text.with_columns(pl.when(df["_bad_field"] == name).then(df["_bad_value"])
                                             .otherwise(pl.col(name)).alias(name))
        return text

    def _record(self, template: str, rel: str, df: pl.DataFrame, first_row: int, humans: np.ndarray | None):
        self.files.append(rel)
        if humans is None:
            return
        hi = df["_hi"].to_numpy()
        self.records.append(pl.DataFrame({
            "来源": template, "文件": rel, "行号": np.arange(len(df), dtype=np.int64) + first_row,
            "human_id": pl.select(pl.when(pl.Series(hi >= 0)).then(humans.gather(np.maximum(hi, 0)))
                                  .otherwise(pl.lit("")))[:, 0],
        }))

    def csv(self, template: str, name: str, df: pl.DataFrame, *, humans=None, encoding="utf-8",
            date_format=None, force=None, drop=()):
        date_format = date_format or DATE_FORMATS[int(self.rng.integers(0, len(DATE_FORMATS)))]
        text = self._text_frame(template, df, date_format, drop)
        heads = self.headers(template, force)
        text = text.rename({c: heads[c] for c in text.columns})
        rel = f"{self.folder}{template}/{name}"
        path = self._new_path(rel)
        if encoding in ("utf-8", "utf-8-sig"):
            with path.open("wb") as f:
                if encoding == "utf-8-sig":
                    f.write(b"\xef\xbb\xbf")
                text.write_csv(f)
        else:
            path.write_bytes(text.write_csv().encode(encoding))
        self._record(template, rel, df, 2, humans)

    def xlsx(self, template: str, name: str, df: pl.DataFrame, *, humans=None, title: str | None = None,
             date_cells=False, numeric_id_row: int | None = None, force=None, total=True):
        date_format = DATE_FORMATS[int(self.rng.integers(0, len(DATE_FORMATS)))]
        text = self._text_frame(template, df, date_format)
        heads = self.headers(template, force)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Sheet1"
        header_row = 1
        if title:
            ws.append([title])
            ws.append([f"填报日期：{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日"])
            ws.append([])
            header_row = 4
        ws.append([heads[c] for c in text.columns])
        date_cols = {i for i, c in enumerate(text.columns) if df.schema[c] == pl.Date} if date_cells else set()
        raw = df.select(text.columns)
        id_col = text.columns.index("公民身份号码") if "公民身份号码" in text.columns else -1
        rows = text.rows()
        raw_rows = raw.rows() if date_cells else None
        for r, row in enumerate(rows):
            row = list(row)
            for i in date_cols:
                row[i] = raw_rows[r][i]
            if r == numeric_id_row and id_col >= 0 and row[id_col]:
                row[id_col] = float(row[id_col])           # what Excel does to an 18-digit number
            ws.append(row)
            if date_cells:
                for i in date_cols:
                    if row[i] is not None:
                        ws.cell(row=header_row + 1 + r, column=i + 1).number_format = "yyyy-mm-dd"
        if total:
            ws.append(["合计", f"共{len(rows)}条"])
        rel = f"{self.folder}{template}/{name}"
        path = self._new_path(rel)
        path.write_bytes(_stable_xlsx(wb))
        self._record(template, rel, df, header_row + 1, humans)


def _stable_xlsx(wb: openpyxl.Workbook) -> bytes:
    """Save a workbook with fixed timestamps, so the same data gives the same bytes (and the same batch)."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-01-01T00:00:00Z", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, data)
    return out.getvalue()
