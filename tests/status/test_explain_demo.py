"""`explain` on the demo street: its words on 登记人口 and 实有人口 agree with the stored verdicts for persons of
every status, and it names each person's grid by name beside the code."""
from __future__ import annotations

import datetime as dt

from pipelines.status import explain
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)


def test_explain_agrees_with_the_stored_counts_for_every_kind_of_person(demo_world):
    with Store(demo_world["home"] / "store.duckdb").connect(read_only=True) as conn:
        sample = conn.execute("""
            SELECT s.person_key, s.status, s.registered, s.grid_code, g.grid_name
            FROM core.person_status s
            LEFT JOIN (SELECT DISTINCT grid_code, grid_name FROM core.grids) g USING (grid_code)
            WHERE s.as_of = ?
            QUALIFY row_number() OVER (PARTITION BY s.status, s.registered, s.grid_code IS NULL
                                       ORDER BY hash(s.person_key)) <= 4""", [AS_OF]).fetchall()
        kinds = {(status, registered) for _, status, registered, _, _ in sample}
        assert {("在住", True), ("待核实", True), ("已离开", True), ("已离开", False), ("死亡", False)} <= kinds
        for key, status, registered, grid, grid_name in sample:
            text = explain(conn, key, as_of=AS_OF)
            assert f"状态 {status}" in text
            assert ("计入登记人口：是" in text) == registered, (key, text)
            assert ("计入实有人口：是" in text) == (status == "在住" and grid is not None), (key, text)
            if grid is not None:
                assert f"{grid_name}（网格编码 {grid}）" in text, text
