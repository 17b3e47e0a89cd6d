"""Issue 4's promise on the demo street: a steward fixes an ID once in the workbook, the next run
links the record, the queue shrinks by exactly those rows, and a fresh batch carrying the old
wrong value does not reopen them."""
from __future__ import annotations

import re
import shutil

import dagster as dg
import openpyxl

from pipelines.cli import main as cli
from pipelines.runner import run_pipeline
from pipelines.store import Store
from tests.conftest import DEMO_AS_OF

N_FIXES = 3


def _open_issue_ids(home) -> set[str]:
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        return {r[0] for r in conn.execute("SELECT issue_id FROM quality.issues WHERE status = 'open'").fetchall()}


def test_fix_once_survives_rebuilds_and_new_batches(demo_copy, tmp_path, capsys):
    home, inbox = demo_copy["home"], demo_copy["inbox"]
    store = Store(home / "store.duckdb")
    # Typo'd IDs on floating records that identity already tied to a person with a valid ID:
    # the right fix is that person's ID.
    with store.connect(read_only=True) as conn:
        targets = conn.execute("""
            SELECT i.issue_id, i.record_no, i.row_no, p.id_number, r.record_key
            FROM quality.issues i
            JOIN core.person_records r ON r.template = i.template AND r.batch_id = i.batch_id AND r.row_no = i.row_no
            JOIN core.person_links l USING (record_key)
            JOIN core.persons p USING (person_key)
            WHERE i.status = 'open' AND i.rule = 'id_invalid' AND i.template = 'floating'
              AND p.id_number IS NOT NULL AND l.rule <> 'id_exact'
            ORDER BY i.issue_id LIMIT ?""", [N_FIXES]).fetchall()
    assert len(targets) == N_FIXES
    fixes = {issue_id: valid_id for issue_id, _, _, valid_id, _ in targets}
    open_before = _open_issue_ids(home)

    workbook = tmp_path / "fixes.xlsx"
    assert cli(["quality", "export", "--home", str(home), "--out", str(workbook)]) == 0
    wb = openpyxl.load_workbook(workbook)
    edited = 0
    for ws in wb.worksheets[1:]:
        header = {c.value: c.column for c in ws[2]}      # row 1: the sheet's instruction line
        if "问题编号" not in header:                       # 候选房屋: the address drop-downs' lists
            continue
        for row in range(3, ws.max_row + 1):
            issue_id = ws.cell(row, header["问题编号"]).value
            if issue_id in fixes:
                ws.cell(row, header["修正值"]).value = fixes[issue_id]
                ws.cell(row, header["处理方式"]).value = "修正"
                ws.cell(row, header["原因"]).value = "核对户籍系统"
                edited += 1
    assert edited == N_FIXES
    wb.save(workbook)
    assert cli(["quality", "apply", str(workbook), "--by", "张社区", "--home", str(home)]) == 0
    assert cli(["quality", "apply", str(workbook), "--by", "张社区", "--home", str(home)]) == 0  # no-op

    summary = run_pipeline(home=home, inbox=inbox, as_of=DEMO_AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert summary.success, summary.error
    # the run says what it did with the stewards' decisions
    assert re.search(rf"问题清单：本次应用修正 {N_FIXES} 条（新提交的决定 {N_FIXES} 条），关闭问题 {N_FIXES} 条",
                     summary.render()), summary.render()
    # the same workbook after the run: the same answer as before it, naming the rows
    capsys.readouterr()
    assert cli(["quality", "apply", str(workbook), "--by", "张社区", "--home", str(home)]) == 0
    said = capsys.readouterr().out
    assert f"接受 0 条，拒绝 0 条，已生效无需重复 {N_FIXES} 条" in said
    assert all(f"#{issue_id}" in said for issue_id in fixes)
    # the history: every fix listed with who, when, old and new value and the rebuild that applied it
    assert cli(["quality", "list", "--status", "fixed", "--home", str(home)]) == 0
    listed = capsys.readouterr().out
    for issue_id, valid_id in fixes.items():
        line = listed[listed.index(f"#{issue_id}"):].splitlines()[1]
        assert "张社区 于" in line and valid_id[:6] + "********" + valid_id[-4:] in line and "次重新计算起生效" in line
        assert valid_id not in listed                                   # masked on the command line
    assert cli(["quality", "progress", "--home", str(home)]) == 0
    shown = capsys.readouterr().out
    assert re.search(rf"身份证号无效\t\d+\t{N_FIXES}\t0", shown) and "最早的待处理问题" in shown
    assert re.search(r"历次重新计算（待处理/已修正/已忽略）：第1次 .*；第2次 ", shown), shown
    assert cli(["audit", "--home", str(home)]) == 0
    audit = capsys.readouterr().out
    assert all(re.search(rf"\tcli\t张社区\t[^\t]*\tfix\t{issue_id}\t", audit) for issue_id in fixes), audit
    with store.connect(read_only=True) as conn:
        rules = dict(conn.execute(
            "SELECT record_key, rule FROM core.person_links WHERE record_key IN (SELECT unnest(?))",
            [[t[4] for t in targets]]).fetchall())
        n_corrections = conn.execute("SELECT count(*) FROM quality.corrections").fetchall()[0][0]
    assert set(rules.values()) == {"id_exact"}, rules
    assert n_corrections == N_FIXES
    open_after = _open_issue_ids(home)
    assert open_before - open_after == set(fixes)
    assert open_after <= open_before

    # The police export the same file again next month (new bytes, same wrong IDs).
    for path in sorted((inbox / "floating").iterdir()):
        shutil.copy(path, tmp_path / path.name)
    for path in sorted(tmp_path.glob("*.csv")):
        data = path.read_bytes()
        (inbox / "floating" / f"再次导出-{path.name}").write_bytes(data + (b"\r\n" if data.endswith(b"\r\n") else b"\n"))
    summary = run_pipeline(home=home, inbox=inbox, as_of=DEMO_AS_OF, instance=dg.DagsterInstance.ephemeral())
    assert summary.success, summary.error
    assert not (set(fixes) & _open_issue_ids(home))
    with store.connect(read_only=True) as conn:
        batches = conn.execute("SELECT count(*) FROM raw.batches WHERE file_name LIKE 'floating/再次导出-%'").fetchall()[0][0]
        reopened = conn.execute(
            "SELECT count(*) FROM quality.issues WHERE status = 'open' AND rule = 'id_invalid' "
            "AND template = 'floating' AND record_no IN (SELECT unnest(?))", [[t[1] for t in targets]]).fetchall()[0][0]
    assert batches >= 1
    assert reopened == 0
