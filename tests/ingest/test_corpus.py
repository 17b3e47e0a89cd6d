"""Every file of the broken-file corpus (tests/ingest/corpus.py) gets its answer: an outcome in
raw.inbox_files, a Chinese message naming the file (and row and field) and saying what to do,
no library text, no absolute path, no ID unmasked; the good rows of every file load, every batch
reconciles, and loading the same inbox again changes nothing."""
from __future__ import annotations

import re

import pytest

from pipelines.ingest import load_inbox
from pipelines.sources import load_catalog
from pipelines.store import Store
from tests.ingest.conftest import LOADED_ON
from tests.ingest.corpus import CASES, write_corpus

# Latin words a message may hold: names of formats and programs a clerk knows, and the template folders.
ALLOWED_LATIN = {"Excel", "UTF", "GBK", "GB18030", "Big5", "CSV", "csv", "xlsx", "xls", "WPS", "HTML", "Unicode",
                 "Latin", "LibreOffice", "zip", "ods", "json", "txt", "Word", "XML", "git", "__MACOSX",
                 *load_catalog().templates}
ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")


def rows(store, sql, params=None):
    with store.connect(read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    inbox = root / "inbox"
    write_corpus(inbox)
    store = Store(root / "home" / "store.duckdb")
    with store.connect() as conn:
        results = load_inbox(conn, inbox, loaded_on=LOADED_ON)
    return {"inbox": inbox, "store": store, "results": {r.file_name: r for r in results}, "root": root}


def outcomes(store) -> dict[str, tuple]:
    return {p: (kind, outcome, reason, message) for p, kind, outcome, reason, message in
            rows(store, "SELECT path, kind, outcome, reason, message FROM raw.inbox_files")}


def latin_words(text: str, path: str) -> set[str]:
    """Latin words outside quotes (a quoted cell or sheet name is the file's own text) and the file name."""
    text = re.sub(r'"[^"]*"|“[^”]*”', "", text.replace(path, ""))
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", text) if w not in ALLOWED_LATIN}


def test_every_file_and_folder_has_one_outcome(loaded):
    inbox = loaded["inbox"]
    seen = outcomes(loaded["store"])
    on_disk = set()
    for p in inbox.rglob("*"):
        rel = p.relative_to(inbox).as_posix() + ("/" if p.is_dir() else "")
        if not rel.startswith("__MACOSX/") or rel == "__MACOSX/":   # a hidden folder is listed, never entered
            on_disk.add(rel)
    assert set(seen) == on_disk
    for case in CASES:
        if case.outcome is not None:
            assert seen[case.path][1] == case.outcome, (case.path, case.what, seen[case.path])


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome in ("ignored", "rejected", "duplicate")],
                         ids=lambda c: c.path)
def test_a_file_not_loaded_says_why_in_chinese(loaded, case):
    kind, outcome, reason, message = outcomes(loaded["store"])[case.path]
    assert message and message.startswith(case.path), message
    for words in case.says:
        assert words in message, (case.what, message)
    assert str(loaded["root"]) not in message and "/tmp" not in message
    assert not latin_words(message, case.path), (case.what, message)
    if case.outcome == "rejected":
        assert rows(loaded["store"], "SELECT status, message FROM raw.batches WHERE file_name = ?", [case.path]) == [
            ("rejected", message)]


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "loaded"], ids=lambda c: c.path)
def test_a_loaded_file_keeps_its_good_rows_and_names_each_bad_one(loaded, case):
    store = loaded["store"]
    [(batch_id, template, read, n_loaded, n_rejected)] = rows(
        store, "SELECT batch_id, template, rows_read, rows_loaded, rows_rejected FROM raw.batches WHERE file_name = ?",
        [case.path])
    assert (n_loaded, n_rejected) == case.rows, case.what
    assert read == n_loaded + n_rejected
    assert rows(store, f"SELECT count(*) FROM raw.{template} WHERE batch_id = ?", [batch_id]) == [(read,)]
    assert rows(store, f"SELECT count(*) FROM staging.{template} WHERE batch_id = ?", [batch_id]) == [(n_loaded,)]
    errors = rows(store, "SELECT row_no, rule, field, severity, message FROM raw.row_errors WHERE batch_id = ?",
                  [batch_id])
    found = {(r, rule, f) for r, rule, f, _, _ in errors}
    for expected in case.errors:
        assert expected in found, (case.what, expected, sorted(found, key=str))
    refused = {r for r, _, _, severity, _ in errors if severity == "reject"}
    for row_no, rule, *_ in errors:   # a row not split into its fields is refused for that alone, not field by field
        if rule in ("quote_broken", "extra_field"):
            assert [e[1] for e in errors if e[0] == row_no] == [rule], (case.what, row_no)
    assert len(refused) == n_rejected
    for row_no, rule, f, _, message in errors:
        where = case.path + (f" 第{row_no}行" if row_no is not None else "")
        assert message.startswith(where), message
        if f is not None and row_no is not None:
            assert message.startswith(f"{where} {f}"), message
        assert not ID_LIKE.search(message), message        # IDs masked 前6后4
        assert not latin_words(message, case.path), message
        assert "\x00" not in message and len(message) < 400, message
        if rule in case.error_says:
            assert case.error_says[rule] in message, message


def test_contract_values_are_kept_as_written(loaded):
    store = loaded["store"]
    # leading zeros of codes (a full-width digit stays as written in raw), dates of every spelling
    assert rows(store, "SELECT house_code FROM raw.residents r JOIN raw.batches b USING (batch_id) "
                       "WHERE b.file_name = 'residents/编码.xlsx' ORDER BY row_no") == [("0001",), ("0002",), ("000３",)]
    dates = rows(store, "SELECT s.collected_on FROM staging.residents s JOIN raw.batches b USING (batch_id) "
                        "WHERE b.file_name = 'residents/日期.xlsx' ORDER BY row_no")
    assert {d for (d,) in dates} == {__import__("datetime").date(2024, 3, 5)} and len(dates) == 7
    # a broken row's text is kept in raw, the rows around it are whole
    kept = rows(store, "SELECT row_no, name, extra_fields FROM raw.residents r JOIN raw.batches b USING (batch_id) "
                       "WHERE b.file_name = 'residents/引号未闭合.csv' ORDER BY row_no")
    assert [r[0] for r in kept] == [2, 3, 4, 5, 6]
    assert kept[2][1] is None and '"王居民3' in next(iter(kept[2][2].values()))
    assert [r[1] for r in kept if r[0] != 4] == ["居民1", "居民2", "居民4", "居民5"]


def test_loading_the_same_inbox_again_changes_nothing(loaded, tmp_path):
    store = loaded["store"]
    before = {t: rows(store, f"SELECT * FROM {t} ORDER BY ALL")
              for t in ("raw.batches", "raw.row_errors", "raw.inbox_files", "raw.residents", "staging.residents")}
    with store.connect() as conn:
        again = load_inbox(conn, loaded["inbox"], loaded_on=LOADED_ON)
    assert not any(r.new for r in again)
    for table, content in before.items():
        assert rows(store, f"SELECT * FROM {table} ORDER BY ALL") == content, table
