"""The leak scanner: every output of the demo street, for every department and grant in the registry, searched
for full ID numbers and full phone numbers. A hit outside a grant that says 全文 fails.

What counts as a full ID: an 18-character number with a valid check character and birth date anywhere in the
text, also inside a longer run of digits (a 残疾证号 is the ID and two digits); or any spelling of an ID the
store was ever given (typos, legacy 15-digit numbers, "510104 19721212 1000"). A full phone: a mobile number
standing on its own, or any number the store holds as a phone, wherever it appears. The scanner is written
here, apart from pipelines/publish/masking.py, so a mistake there cannot hide itself.

Outputs: reports (HTML, XLSX, person lists) and extracts (CSV for every grant, XLSX and Parquet for one grant
of each extract), the steward queue (portal pages for each kind of steward, the fixes workbook, `onceonly
quality list`), the stewards' grouped unmatched addresses (portal page, `onceonly address unknown`), the portal's
run page and audit, the run report (file and portal page), `onceonly explain`, the run's summary, every row-error and refused-file message, the reports
and Data Docs the run wrote, and the files the build made for the portal to hand out (every report per masking and
jurisdiction, each department's extracts).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.publish import load_registry, write_extract
from pipelines.publish.extracts import SUFFIX
from pipelines.publish.masking import Masking
from pipelines.reports import render_report
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)
_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_FOLD = str.maketrans("０１２３４５６７８９Ｘｘ　", "0123456789Xx ")
# 11 or more digits in a row, also as typed with single spaces or dashes between them
_RUNS = re.compile(r"[0-9Xx](?:[ \-]?[0-9Xx]){10,}")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def valid_id(s: str) -> bool:
    if not (s[:17].isdigit() and s[17] in "0123456789Xx"):
        return False
    if "10X98765432"[sum(int(c) * w for c, w in zip(s, _W)) % 11] != s[17].upper():
        return False
    try:
        return dt.date(1900, 1, 1) <= dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14])) <= AS_OF
    except ValueError:
        return False


@dataclass
class Known:
    ids: set[str]           # every ID spelling the store holds, separators removed, upper case
    ids15: set[str]         # legacy 15-digit IDs
    phones: set[str]
    consented: set[str]     # phones whose owner agreed to publish them (公开联系方式 是)


@dataclass
class Hit:
    output: str
    kind: str               # id | phone
    value: str

    def __str__(self):
        shown = self.value[:4] + "…" + self.value[-2:]      # the report of a leak does not leak it again
        return f"{self.output}: {self.kind} {shown}"


def scan(text: str, known: Known) -> set[tuple[str, str]]:
    """The distinct (kind, value) of the full IDs and phones in ``text``."""
    found = []
    text = text.translate(_FOLD)
    for m in _RUNS.finditer(text):
        run = re.sub(r"[ \-]", "", m.group()).upper()
        if len(run) >= 18:
            for i in range(len(run) - 17):
                w = run[i:i + 18]
                if valid_id(w) or w in known.ids:
                    found.append(("id", w))
        if len(run) >= 15:
            found += [("id", run[i:i + 15]) for i in range(len(run) - 14) if run[i:i + 15] in known.ids15]
        if len(run) >= 11:
            found += [("phone", run[i:i + 11]) for i in range(len(run) - 10) if run[i:i + 11] in known.phones]
    found += [("phone", p) for p in _MOBILE.findall(text)]
    return set(found)


def file_text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    if path.suffix == ".parquet":
        t = pq.read_table(path)
        meta = {k.decode(): v.decode() for k, v in (t.schema.metadata or {}).items()}
        return "\n".join([str(meta)] + ["\t".join("" if v is None else str(v) for v in r.values())
                                        for r in t.to_pylist()])
    return path.read_text(encoding="utf-8-sig", errors="replace")


@dataclass
class Scanner:
    known: Known
    hits: list[Hit] = field(default_factory=list)
    allowed: list[Hit] = field(default_factory=list)   # hits a grant or a consent allows: the scanner works
    outputs: int = 0

    def check(self, output: str, text: str, m: Masking = Masking(), consent_ok: bool = False) -> None:
        self.outputs += 1
        for kind, value in scan(text, self.known):
            ok = (kind == "id" and m.id == "全文") or (kind == "phone" and m.phone == "全文") \
                or (kind == "phone" and consent_ok and value in self.known.consented)
            (self.allowed if ok else self.hits).append(Hit(output, kind, value))

    def check_file(self, label: str, path: Path, m: Masking = Masking(), consent_ok: bool = False) -> None:
        self.check(f"{label} {path.name}", file_text(path), m, consent_ok)


def known_values(conn) -> Known:
    def column(sql):
        return {r[0] for r in conn.execute(sql).fetchall() if r[0]}
    raw = column("""
        SELECT id_raw FROM core.person_records UNION SELECT id_number FROM core.person_records
        UNION SELECT id_number FROM core.persons UNION SELECT owner_id_raw FROM staging.housing
        UNION SELECT owner_id_number FROM staging.housing""")
    spelled = {re.sub(r"[ \-]", "", v.translate(_FOLD)).upper() for v in raw}
    phones = column("SELECT phone FROM staging.residents UNION SELECT grid_worker_phone FROM core.grids")
    consented = column("SELECT phone FROM staging.residents WHERE phone_public = '是'")
    return Known({v for v in spelled if len(v) == 18}, {v for v in spelled if len(v) == 15},
                 {p for p in phones if len(p) == 11}, consented)


ACCOUNTS = {"steward": ("街道办", "玉林街道"), "jiedao": ("街道办", "玉林街道"), "shequ": ("社区", "芳草社区")}


@pytest.fixture(scope="module")
def scanned(demo_world, demo_outputs_home, tmp_path_factory):
    home = demo_outputs_home
    out = tmp_path_factory.mktemp("leaks")
    reg = load_registry()
    store = Store(home / "store.duckdb")
    with store.connect() as conn:
        sc = Scanner(known_values(conn))
        communities = [r[0] for r in conn.execute(
            "SELECT DISTINCT community_code FROM core.grids ORDER BY 1").fetchall()]
        # reports and their person lists, for every department and report in its grant (two departments
        # whose grant shows a report alike — same masking, same jurisdiction — get the same bytes: once)
        seen: set = set()
        for dept, d in reg.departments.items():
            scope = "芳草社区" if d.level == "community" else None
            for name in d.reports:
                if (name, scope, reg.report_masking(dept)) in seen:
                    continue
                seen.add((name, scope, reg.report_masking(dept)))
                for p in render_report(conn, name, out_dir=out / "reports" / dept, as_of=AS_OF, home=home, dept=dept,
                                       scope=scope, user="leak-scan"):
                    sc.check_file(f"报表 {dept}", p, reg.report_masking(dept), consent_ok=p.name.endswith("-contacts.csv"))
        # extracts: every grant as CSV (with its data dictionary) over its whole jurisdiction; each extract
        # also once as XLSX, Parquet and the double-click CSV, over one community (the writers mask nothing themselves)
        formats_done: set[str] = set()
        for dept, d in reg.departments.items():
            scope = "芳草社区" if d.level == "community" else None
            for name, grant in d.extracts.items():
                if (name, scope, grant.columns, grant.masking) in seen:
                    continue
                seen.add((name, scope, grant.columns, grant.masking))
                user = grant.users[0] if grant.users else "leak-scan"
                fmts = [("csv", scope)] + ([] if name in formats_done else [("xlsx", "芳草社区"), ("parquet", "芳草社区"),
                                                                        ("csv-excel", "芳草社区")])
                formats_done.add(name)
                for fmt, where in fmts:
                    r = write_extract(conn, name, fmt=fmt, out=out / "extracts" / dept / f"{name}.{fmt}.{SUFFIX[fmt]}",
                                      dept=dept, scope=where, as_of=AS_OF, user=user, home=home)
                    sc.check_file(f"数据提取 {dept}", r.path, grant.masking)
                    if r.dictionary_path:
                        sc.check_file(f"数据提取 {dept}", r.dictionary_path, grant.masking)
        # `onceonly explain` for people with records in every template
        from pipelines.status import explain
        people = [r[0] for r in conn.execute("""
            SELECT any_value(person_key) FROM core.evidence GROUP BY template ORDER BY template""").fetchall()]
        for key in people:
            sc.check(f"explain {key}", explain(conn, key, as_of=AS_OF))
        # messages: every row error and refused file
        for (msg,) in conn.execute("SELECT message FROM raw.row_errors UNION ALL "
                                   "SELECT message FROM raw.batches WHERE message IS NOT NULL").fetchall():
            sc.check("错误信息", msg)
        # the operator's steward workbook (command line: default masking), per community
        from pipelines.quality import export_workbook
        for code in communities:
            path = out / "queue" / f"fixes-{code}.xlsx"
            export_workbook(conn, path, community=code)
            sc.check_file("问题修正表（命令行）", path)
    # `onceonly quality list`, the run's own summary, the reports and Data Docs the run wrote
    from pipelines.cli import main
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["quality", "list", "--home", str(home), "--limit", "100000"]) == 0
    sc.check("onceonly quality list", buf.getvalue())
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["address", "unknown", "--home", str(home), "--limit", "100000"]) == 0
    sc.check("onceonly address unknown", buf.getvalue())
    sc.check("onceonly run", demo_world["summary"].render())
    # the run report (every refused row's message) is among the reports the run wrote
    assert list((home / "reports").rglob("run-report.html")) and list((home / "reports").rglob("run-report.xlsx"))
    for p in sorted((home / "reports").rglob("*")) + sorted((home / "quality").rglob("*")):
        if p.is_file() and p.suffix in (".html", ".xlsx", ".csv", ".json"):
            sc.check_file("运行生成", p, consent_ok=p.name.endswith("-contacts.csv"))
    _prerendered(home, sc, reg)
    _portal(home, sc, communities)
    return sc


def _prerendered(home: Path, sc: Scanner, reg) -> None:
    """The files the build made for the portal to hand out (pipelines/publish/rendered.py): reports under their
    masking's folder (``id-前6后4_phone-中间四位_...``), extracts under their department's."""
    files = sorted(p for p in (home / "versions").glob("*/files/**/*")
                   if p.is_file() and p.suffix in (".html", ".xlsx", ".csv", ".parquet"))
    assert any("/reports/" in str(p) for p in files) and any("/extracts/" in str(p) for p in files)
    for p in files:
        parts = p.relative_to(home / "versions").parts      # <id>, files, kind, as-of, ...
        if parts[2] == "reports":
            m = Masking(**dict(kv.split("-", 1) for kv in parts[4].split("_")))
            sc.check_file("预生成报表", p, m, consent_ok=p.name.endswith("-contacts.csv"))
        else:
            dept, name = parts[4], parts[6].rsplit(".", 1)[0]
            d = reg.department(dept)
            grant = d.extracts[name]
            sc.check_file(f"预生成数据提取 {dept}", p, grant.masking)


def _portal(home: Path, sc: Scanner, communities: list[str]) -> None:
    """The steward queue as each kind of steward sees it, the runs page, a fix, and the portal's audit."""
    from starlette.testclient import TestClient

    from pipelines.web import add_user, audit_log, create_app, format_audit
    from tests.web.portal_world import PASSWORD, csrf_of, login

    reg = load_registry()
    for user, (dept, scope) in ACCOUNTS.items():
        add_user(home, user, PASSWORD, dept, scope)
    app = create_app(home)
    for i, (user, (dept, _)) in enumerate(ACCOUNTS.items()):
        m = reg.queue_masking(dept, user)
        c = TestClient(app, client=(f"10.9.0.{i + 1}", 5000), follow_redirects=False)
        assert login(c, user).status_code == 303
        for status in ("open", "fixed"):
            page, pages = 1, 1
            while page <= pages:
                r = c.get(f"/queue?status={status}&page={page}")
                assert r.status_code == 200, r.text
                sc.check(f"问题清单 {user} {status} 第{page}页", r.text, m)
                found = re.search(r"第 \d+ / (\d+) 页", r.text)
                pages = int(found.group(1)) if found else 1
                page += 1
        for code in (communities if dept == "街道办" else communities[:1]):
            r = c.get(f"/queue/export?community={code}")
            assert r.status_code == 200
            path = home / f"portal-fixes-{user}-{code}.xlsx"
            path.write_bytes(r.content)
            sc.check_file(f"问题修正表 {user}", path, m)
        r = c.get("/queue/addresses")              # the grouped unmatched addresses
        assert r.status_code == 200, r.text
        sc.check(f"未匹配地址 {user}", r.text, m)
        if user == "jiedao":
            sc.check("运行情况 jiedao", c.get("/runs").text)
            r = c.get("/runs/report")
            assert r.status_code == 200 and "拒收的数据行" in r.text
            sc.check("运行报告 jiedao", r.text)
        if user == "shequ":
            # a fix typed with a whole ID: the portal's audit names it masked
            issue = re.search(r'name="issue_id" value="([^"]+)"', c.get("/queue?rule=id_invalid").text)
            if issue:
                r = c.post("/queue/fix", data={"csrf": csrf_of(c, "/queue"), "issue_id": issue.group(1),
                                               "action": "修正", "value": "11010519491231002X",
                                               "reason": "核对原件 11010519491231002X"})
                assert r.status_code == 303
                sc.check("问题清单 shequ 修正后", c.get("/queue?status=fixed").text)
    sc.check("onceonly audit", format_audit(audit_log(home, AS_OF - dt.timedelta(days=3650))))
    app.state.portal.gate.close()       # the portal keeps the live version open; other tests open it too


def test_the_scanner_finds_what_it_should():
    known = Known({"510104197212121000"}, {"510104721212100"}, {"13800001111"}, set())
    text = "证号51010419900101123042 与 510104 19721212 1000、５１０１０４７２１２１２１００、电话13912345678，13800001111"
    kinds = sorted(k for k, _ in scan(text, known))
    assert kinds == ["id", "id", "id", "phone", "phone"]
    assert scan("510104********1000 139****5678 P0000019633 SQ000015579", known) == set()


def test_no_full_id_or_phone_leaves_outside_a_grant_that_says_full(scanned):
    assert scanned.outputs > 200
    assert not scanned.hits, f"{len(scanned.hits)} leaks, e.g.\n" + "\n".join(map(str, scanned.hits[:25]))


def test_the_scanner_saw_what_the_grants_allow(scanned):
    # the grants that say 全文 (公安's floating list, 民政's assistance check, the street's data stewards in
    # the queue) and the consented courtyard contacts do hold full values: the scan is not blind
    where = {h.output.split()[0] + " " + h.output.split()[1] for h in scanned.allowed}
    assert any(h.kind == "id" and "公安" in h.output for h in scanned.allowed)
    assert any(h.kind == "id" and "民政" in h.output for h in scanned.allowed)
    assert any(h.kind == "phone" and h.output.endswith("-contacts.csv") for h in scanned.allowed)
    assert any("问题清单 steward" in h.output for h in scanned.allowed), where
