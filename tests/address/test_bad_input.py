"""Bad input gets a clear 依据, never an error that stops the run (issue 18), and `onceonly address parse`
(contract §3) writes its CSV whatever it is given."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

from pipelines.address import match_addresses
from pipelines.address.parse import PARSE_COLUMNS, parse_csv

LONG = ("芳草小区3栋2单元501" * 200)[:2000]           # 2,000 characters
BAD = {
    "a": ("no_match", "地址过短（“a”），无法识别"),
    "同上": ("no_match", "“同上”不是地址，请填写实际居住地址"),
    "不详": ("no_match", "“不详”不是地址"),
    "无": ("no_match", "“无”不是地址"),
    " 同 上 ": ("no_match", "“同 上”不是地址"),
    "NULL": ("no_match", "不是地址"),
    "--": ("no_match", "不是地址"),
    "😀😀😀": ("no_match", "地址只有符号，没有文字"),
    "？？？": ("no_match", "地址只有符号，没有文字"),
    LONG: ("no_match", "地址过长（2000字），不像一个地址，请核对"),
    "😀芳草小区3栋2单元501😀": ("matched", "唯一对应此房屋"),          # emoji around a good address
    "芳草小区3栋2单元501\n（电联）": ("matched", "唯一对应此房屋"),      # a line break inside a cell
    "芳草小区3栋2单元501 13912345678": ("matched", "唯一对应此房屋"),     # the caller's phone typed after it
    "芳草小区3栋2单元501 身份证号码：510104199001011230": ("matched", "唯一对应此房屋"),   # and an ID
    "火星基地1号": ("no_match", "小区“火星基地”不在实有房屋中"),
    "1-1-1": ("no_match", "未能识别出小区或道路门牌"),
}


def test_bad_values_get_a_clear_basis(address_conn):
    conn = address_conn
    conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('b1', ?, ?, ?)",
                     [(i + 2, f"R{i}", a) for i, a in enumerate(BAD)] + [(90, "E1", ""), (91, "E2", "   ")])
    counts = match_addresses(conn)
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT address, match_status, address_basis(m), unknown_kind FROM core.address_matches m").fetchall()}
    assert set(rows) == set(BAD)                   # blank cells carry no address: no row (contract §3)
    for address, (status, basis) in BAD.items():
        got_status, got_basis, kind = rows[address]
        assert got_status == status and basis in got_basis, (address[:30], rows[address])
        if status == "no_match":
            assert kind in ("not_address", "unreadable", "compound"), (address[:30], kind)
    assert counts == {"matched": 4, "no_match": len(BAD) - 4, "multi_match": 0}


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_parse_writes_the_contract_columns_in_input_order():
    lines = ["四川省成都市武侯区玉林街道芳草社区玉林北路12号芳草小区三栋二单元5楼501室", "", "同上", "a", LONG,
             "😀", "上海市闵行区七宝镇魏星路169弄47号楼844室", "体育场路824", "３－２－５０１", "月安二社区南湖一村3栋2单元501"]
    rows = _csv(parse_csv(lines))
    assert tuple(rows[0]) == PARSE_COLUMNS
    assert [r[0] for r in rows[1:]] == lines                            # one row per line, in order, verbatim
    assert rows[1][1:] == ["玉林北路", "12", "芳草小区", "3", "2", "5", "501"]
    assert all(r[1:] == [""] * 7 for r in rows[2:7])                     # nothing read, nothing failed
    assert rows[7][1:] == ["魏星路", "169弄", "", "47", "", "", "844"]
    assert rows[8][1:] == ["体育场路", "824", "", "", "", "", ""]
    assert rows[9][1:] == ["", "", "", "3", "2", "", "501"]
    assert rows[10][1:] == ["", "", "南湖一村", "3", "2", "", "501"]


def test_parse_command_reads_a_file_or_standard_input(tmp_path):
    f = tmp_path / "地址.txt"
    f.write_text("\ufeff玉林北路12号附1号1栋1单元101\n芳草小区3-2-501\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "pipelines.cli", "address", "parse"]
    home = ["--home", str(tmp_path / "nohome")]
    by_file = subprocess.run([*cmd, str(f), *home], capture_output=True, text=True, encoding="utf-8", check=True)
    by_stdin = subprocess.run([*cmd, *home], input=f.read_text(encoding="utf-8-sig"), capture_output=True,
                              text=True, encoding="utf-8", check=True)
    assert by_file.stdout == by_stdin.stdout
    assert _csv(by_file.stdout)[1:] == [["玉林北路12号附1号1栋1单元101", "玉林北路", "12附1", "", "1", "1", "", "101"],
                                        ["芳草小区3-2-501", "", "", "芳草小区", "3", "2", "", "501"]]
    missing = subprocess.run([*cmd, str(tmp_path / "none.txt"), *home], capture_output=True, text=True,
                             encoding="utf-8")
    assert missing.returncode == 2 and "找不到文件" in missing.stderr
