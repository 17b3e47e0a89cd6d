"""A report's files kept from the last build when what they print is unchanged (an incremental build's report step).

A report's files are a function of what its SQL and builder put in the :class:`Report` (sections' rows, notes, the
masked person lists, the quality lines), of the file names, of the masking it is shown with, and of the code that
protects and writes it (disclosure control, HTML, XLSX, CSV: the code signature and the packages that write bytes).
So the build digests that, after the queries and before the disclosure audit and the writing — which are most of a
report's time at city scale — and when the digest is the one recorded for the same file set at the last build
(the build state, pipelines/status/delta.py, step ``report-files <key>``: the digest and each file's SHA-256) and the last build's files
are still there with those bytes, they are linked (or copied) into the new folder instead of being made again.
Anything else renders as before. Byte-identical by construction: tests/reports/test_kept_files.py changes one
community's rows and finds its files made again, another community's kept, and both equal to a fresh render.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import duckdb

from pipelines.code_signature import code_signature
from pipelines.publish.audit import sha256_file
from pipelines.status import delta

# what writes a report's bytes besides the packages code_signature names
WRITERS = ("highspy", "pyarrow")


@dataclass
class Kept:
    """Where a report's files may be kept from: the connection holding the build state (writable: a build),
    the last build's folder of the same files (may be the same folder), and the key naming the file set (the
    department masking and jurisdiction it is rendered for)."""
    conn: duckdb.DuckDBPyConnection
    previous: Path | None
    key: str


def digest(report, stem: str, shown) -> str:
    """What the files of ``report`` written as ``stem`` for masking ``shown`` are made from."""
    import pyarrow as pa

    h = hashlib.sha256()
    h.update(code_signature().encode())
    h.update(" ".join(f"{p}={version(p)}" for p in WRITERS).encode())
    head = {f.name: _ordered(getattr(report, f.name)) for f in dataclasses.fields(report)
            if f.name not in ("sections", "lists", "hidden")}
    h.update(repr((stem, repr(shown), sorted(head.items(), key=lambda kv: kv[0]))).encode())
    for s in report.sections:
        chart = s.chart
        fields = {f.name: getattr(s, f.name) for f in dataclasses.fields(s) if f.name != "chart"}
        h.update(repr(sorted(fields.items(), key=lambda kv: kv[0])).encode())
        if chart is not None:
            h.update(repr((chart.title, str(chart.svg), chart.width_px, chart.height_px)).encode() + chart.png)
    for lst in report.lists:
        h.update(repr((lst.key, lst.title)).encode())
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, lst.table.schema) as writer:
            writer.write_table(lst.table)
        h.update(sink.getvalue())       # the buffer as it is: a copy to bytes costs as much as the hash
    return h.hexdigest()


def _ordered(value):
    """A set's elements in one order (a set's repr follows its hash table, not its contents alone)."""
    return sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value


def _step(key: str) -> str:
    return f"report-files {key}"


def reuse(kept: Kept, made_from: str, out_dir: Path) -> dict[str, str] | None:
    """The last build's files (name -> SHA-256) linked into ``out_dir`` when they were made from ``made_from``
    and are still there unchanged; else None (render them)."""
    if kept.previous is None:
        return None
    stored = delta.stored(kept.conn, _step(kept.key))
    if stored is None:
        return None
    recorded = json.loads(stored)
    if recorded.get("digest") != made_from:
        return None
    files: dict[str, str] = recorded["files"]
    previous, out_dir = Path(kept.previous), Path(out_dir)
    for name, sha in files.items():
        if not (previous / name).is_file() or sha256_file(previous / name) != sha:
            return None
    if previous.resolve() != out_dir.resolve():
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in files:
            target = out_dir / name
            target.unlink(missing_ok=True)
            try:
                os.link(previous / name, target)     # versions never change a file: one copy on disk
            except OSError:
                shutil.copyfile(previous / name, target)
    return files


def record(kept: Kept, made_from: str, files: dict[str, str]) -> None:
    # what the files are made from and their hashes only: the build state must be the same after an incremental
    # build and a full rebuild (files' times are not), so reuse() hashes the last build's files again
    delta.remember(kept.conn, _step(kept.key), json.dumps({"digest": made_from, "files": files}, sort_keys=True))
