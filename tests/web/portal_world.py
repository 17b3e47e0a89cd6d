"""Helpers for the portal tests. A small store for the portal: the publish tests' world (two streets: 草堂街道 with 金沙社区 and 银杏社区,
东门街道 with 河滨社区), plus raw rows with errors in two streets so the steward queue has work, built
with the quality package's own build_queue/scorecard. Accounts for every role."""
from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

from pipelines.marts import build_portal_marts
from pipelines.quality import build_queue, pending, scorecard
from pipelines.store import Store
from tests.publish.conftest import load_world
from tests.schema import copy_of

AS_OF = dt.date(2026, 10, 31)
PASSWORD = "correct-horse-42"

# username, department, jurisdiction
ACCOUNTS = {
    "jiedao": ("街道办", "S1"),        # street office of 草堂街道
    "steward": ("街道办", "S1"),       # its data steward (person-sources grant)
    "shequ": ("社区", "C1"),           # 金沙社区 steward
    "hebin": ("社区", "C3"),           # 河滨社区 steward (the other street)
    "minzheng": ("民政", "S1"),
    "jiaoyu": ("教育", "S1"),
    "dongmen": ("街道办", "S2"),       # street office of 东门街道
    "wangge": ("网格员", "G2"),        # grid worker of 金沙二网格
    "gongan": ("公安", "S1"),
}

QUALITY_SQL = """
UPDATE core.person_records SET name_raw = name, id_raw = id_number, id_valid = true;
UPDATE core.houses SET batch_id = 'b_house', row_no = 2, collected_on = DATE '2026-01-06';
UPDATE core.grids SET batch_id = 'b_grids', row_no = 2;
INSERT INTO raw.batches VALUES ('b_res_hb', 'residents', 'residents/2026-10 河滨社区.xlsx', 100, 'xlsx', NULL, 3,
    TIMESTAMP '2026-10-20 10:00:00', DATE '2026-10-20', 'loaded', NULL, 2, 0, 2, 'c', 8);
INSERT INTO raw.residents BY NAME SELECT * FROM (VALUES
  ('b_res', 30, 'R-X1', '金一', NULL, '男', '2024-02-30', NULL, NULL, 'H1', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL),
  ('b_res', 31, 'R-X2', '金二', NULL, '女', '2023-13-01', NULL, NULL, 'H2', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL),
  ('b_res', 32, 'R-X3', '金三', NULL, '女', '1990-02-31', NULL, NULL, 'H3', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL),
  ('b_res', 33, 'R-X4', '金四', NULL, '男', '1985-06-31', NULL, NULL, 'H3', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL),
  ('b_res', 34, 'R-X5', '金五', NULL, '男', '1975-09-31', NULL, NULL, 'H2', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL),
  ('b_res_hb', 4, 'R-H1', '河秘密', NULL, '男', '2022-02-30', NULL, NULL, 'H5', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL),
  ('b_res_hb', 5, 'R-H2', '河机密', NULL, '女', '2021-04-31', NULL, NULL, 'H5', NULL, '户籍人口', NULL, NULL, '2026-10-20', NULL, NULL)
) t(batch_id, row_no, record_no, name, id_number, sex, birth_date, ethnicity, phone, house_code, relation, category, tags,
    collector, collected_on, extra_fields, cell_types);
-- a loaded row of the 河滨 file, so its rejected rows are located in 河滨社区 (the file's community)
INSERT INTO core.person_records (record_key, template, batch_id, row_no, record_no, name, id_number, house_code,
    event_date, name_raw, id_raw, id_valid)
VALUES ('residents:b_res_hb:3', 'residents', 'b_res_hb', 3, 'R-H0', '陈十三', '510104194501010133', 'H5',
    DATE '2026-10-20', '陈十三', '510104194501010133', true);
INSERT INTO core.person_links (record_key, person_key, rule) VALUES ('residents:b_res_hb:3', 'P13', 'id_exact');
INSERT INTO raw.row_errors
SELECT batch_id, 'residents', row_no, record_no, '出生日期', 'birth_date', birth_date, 'date_invalid', 'reject',
       (CASE batch_id WHEN 'b_res' THEN 'residents/2026-10 金沙社区.xlsx' ELSE 'residents/2026-10 河滨社区.xlsx' END)
       || ' 第' || row_no || '行 出生日期 "' || birth_date || '" 不是有效日期'
FROM raw.residents;
"""


def add_accounts(home: Path) -> None:
    from pipelines.web import add_user

    for user, (dept, scope) in ACCOUNTS.items():
        add_user(home, user, PASSWORD, dept, scope)


def build_portal_store(home: Path, template: Path) -> Store:
    """The publish world (on a copy of the product's empty tables, ``template``: tests/schema.py) with the queue."""
    store = copy_of(template, home)
    with store.connect() as conn:
        load_world(conn)
        conn.execute(QUALITY_SQL)
        build_queue(conn)
        scorecard(conn, AS_OF)
        build_portal_marts(conn)
        Store.run_sql(conn, "raw/tables.sql")       # raw.inbox_files: every file of the inbox answered
        conn.execute("""
            INSERT INTO raw.inbox_files
            SELECT file_name, 'file', status, NULL, template, batch_id, file_size,
                   CASE status WHEN 'rejected' THEN file_name || '：' || message END FROM raw.batches
            UNION ALL SELECT 'residents/说明.txt', 'file', 'ignored', 'unsupported_type', 'residents', NULL, 20,
                             'residents/说明.txt：未读取：不支持 .txt 文件'""")
    build_run_report(home)
    return store


def build_run_report(home: Path) -> None:
    """The run report's tables as a second run would leave them: the previous version had not yet read the
    河滨 file (so its refused rows are this run's) and had 赵六 (P06) of 金沙社区 as 待核实."""
    from pipelines.reports.run_report import build_tables

    previous = home / "previous.duckdb"
    shutil.copyfile(home / "store.duckdb", previous)
    with Store(previous).connect() as conn:
        conn.execute("DELETE FROM raw.batches WHERE batch_id = 'b_res_hb'")
        conn.execute("UPDATE marts.persons SET status = '待核实' WHERE person_key = 'P06'")
    with Store(home / "store.duckdb").connect() as conn:
        build_tables(conn, as_of=AS_OF, version="000002", previous=previous, base_version="000001")
    previous.unlink()



def login(client, user: str, password: str = PASSWORD):
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"csrf": token, "username": user, "password": password},
                       follow_redirects=False)

def csrf_of(client, path: str = "/") -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)

def issue_id(home: Path, record_no: str) -> str:
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        return conn.execute("SELECT issue_id FROM quality.issues WHERE record_no = ?", [record_no]).fetchall()[0][0]

def issue_status(home: Path, record_no: str, *, as_stored: bool = False) -> str:
    """The issue's status as the portal shows it (decisions waiting for the next build applied), or as the store
    holds it."""
    with Store(home / "store.duckdb").connect(read_only=True) as conn:
        issues = "quality.issues" if as_stored else pending.overlay(conn, home)[0]
        return conn.execute(f"SELECT status FROM {issues} WHERE record_no = ?", [record_no]).fetchall()[0][0]


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """``app`` on a real loopback socket (uvicorn in a thread, configured as ``onceonly serve`` does)."""
    import socket
    import threading
    import time

    import uvicorn

    from pipelines.web.app import uvicorn_config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, backlog=1024))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
