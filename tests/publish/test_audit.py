"""The handout record lives in the home's database; a store that still holds audit.extracts is listed, then adopted."""
from __future__ import annotations

import datetime as dt

from pipelines.publish import audit
from pipelines.store import Store

LEGACY_DDL = """
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE audit.extracts (kind VARCHAR NOT NULL, name VARCHAR NOT NULL, department VARCHAR, user_name VARCHAR NOT NULL,
    scope VARCHAR NOT NULL, as_of DATE NOT NULL, format VARCHAR NOT NULL, row_count BIGINT NOT NULL, columns VARCHAR[],
    file_path VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, written_at TIMESTAMP NOT NULL);
INSERT INTO audit.extracts VALUES
  ('extract', 'grid-population', '民政', 'old1', '全库', DATE '2026-09-30', 'csv', 4, ['网格编码'], '/x/a.csv', 'aa',
   TIMESTAMP '2026-10-01 09:00:00.123456'),
  ('report', 'elderly-80plus-list', '社区', 'old2', 'community:C1', DATE '2026-09-30', 'csv', 1, ['姓名'], '/x/b.csv',
   'bb', TIMESTAMP '2026-10-02 10:00:00');
"""


def test_a_handout_is_written_to_the_home_not_the_store(tmp_path):
    audit.record(tmp_path, kind="extract", name="grid-population", department="民政", user="u1", scope="全库",
                 as_of=dt.date(2026, 10, 31), fmt="csv", row_count=3, columns=["网格编码", "实有人口"],
                 path=tmp_path / "a.csv", sha256="cd" * 32, version="000002")
    (got,) = audit.handouts(tmp_path, dt.datetime(2026, 1, 1))
    assert (got["user_name"], got["as_of"], got["row_count"], got["store_version"]) == ("u1", "2026-10-31", 3, "000002")
    assert not (tmp_path / "store.duckdb").exists()


def test_rows_kept_in_an_older_store_are_listed_once_before_and_after_a_build_adopts_them(tmp_path):
    store = Store(tmp_path / "store.duckdb")
    with store.connect() as conn:
        conn.execute(LEGACY_DDL)
    audit.record(tmp_path, kind="extract", name="assistance-check", department="民政", user="new", scope="全库",
                 as_of=dt.date(2026, 10, 31), fmt="xlsx", row_count=2, columns=["姓名"], path=tmp_path / "n.xlsx",
                 sha256="ee" * 32)
    since = dt.datetime(2026, 1, 1)
    before = [(h["user_name"], h["written_at"]) for h in audit.handouts(tmp_path, since)]
    assert [u for u, _ in before] == ["old1", "old2", "new"]
    assert before[0][1] == dt.datetime(2026, 10, 1, 9, 0, 0, 123456)
    # a build copies the store and moves the rows into the home's record (twice changes nothing)
    with store.connect() as conn:
        assert audit.adopt_store_rows(conn, tmp_path) == 2
        assert audit.adopt_store_rows(conn, tmp_path) == 0
    assert [(h["user_name"], h["written_at"]) for h in audit.handouts(tmp_path, since)] == before
    # an earlier version, still holding the rows, lists nothing twice
    with store.connect() as conn:
        conn.execute(LEGACY_DDL.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    assert [(h["user_name"], h["written_at"]) for h in audit.handouts(tmp_path, since)] == before
    assert audit.handouts(tmp_path, dt.datetime(2026, 10, 2))[0]["user_name"] == "old2"
