"""The portal's grouped address queue: a steward sees the unknown spellings of their own jurisdiction with
counts, and settles one once; another jurisdiction's spelling is refused."""
from __future__ import annotations

import re

import pytest

from pipelines.address import match_addresses
from pipelines.address.aliases import list_aliases
from pipelines.quality import build_queue, pending
from pipelines.store import Store
from pipelines.web import create_app
from tests.web.portal_world import add_accounts, build_portal_store, serving
from tests.web.test_portal_browser import _login, browser  # noqa: F401  (the browser fixture)
from tests.web.test_portal_http import client, logged_in

ROWS = [  # a police file of 金沙社区: two rows placed, three spelled 锦苑新居, one elsewhere in the street
    (2, "HK1", "草堂路1号锦苑小区1栋1单元101", "H1"), (3, "HK2", "锦苑小区2栋1单元201", "H3"),
    (4, "HK3", "锦苑新居1栋1单元102", None), (5, "HK4", "锦苑新居2栋1单元202", None),
    (6, "HK5", "锦苑新居 2栋1单元201", None),
]


@pytest.fixture(scope="module")
def home(tmp_path_factory, schema_template):
    return _home(tmp_path_factory.mktemp("portal-addr") / "home", schema_template)


def _home(home, template):
    store = build_portal_store(home, template)
    with store.connect() as conn:
        conn.executemany("INSERT INTO staging.hukou (batch_id, row_no, record_no, hukou_address) VALUES ('b_hk', ?, ?, ?)",
                         [r[:3] for r in ROWS])
        conn.execute("INSERT INTO raw.batches (batch_id, template, file_name, status, batch_no) "
                     "VALUES ('b_hk', 'hukou', 'hukou/草堂派出所.csv', 'loaded', 50)")
        conn.executemany("INSERT INTO core.person_records (record_key, template, batch_id, row_no, record_no, name, "
                         "house_code, name_raw) VALUES (?, 'hukou', 'b_hk', ?, ?, '某', ?, '某')",
                         [(f"hukou:50:{r}", r, n, h) for r, n, _, h in ROWS if h])
        match_addresses(conn)
        build_queue(conn)
    add_accounts(home)
    return home


@pytest.fixture(scope="module")
def app(home):
    return create_app(home)


def test_a_steward_settles_a_spelling_once(app, home):
    c = logged_in(app, "shequ")                                  # 金沙社区
    page = c.get("/queue/addresses")
    assert page.status_code == 200
    assert "未知小区名" in page.text and "锦苑新居" in page.text
    assert re.search(r"锦苑新居</td><td class=\"num\">3</td>", page.text)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    form = {"csrf": token, "kind": "compound", "spelling": "锦苑新居", "target": "锦苑小区", "reason": "现场核实"}
    r = c.post("/queue/address-alias", data=form)
    assert r.status_code == 303
    assert "已记录" in c.get("/queue/addresses").text
    # the live version is only read: the decision waits in the home's database, and the next build takes it
    assert [(a[2], a[6], a[10]) for a in pending.waiting_aliases(home)] == [("锦苑新居", "锦苑小区", "shequ")]
    app.state.portal.gate.close()      # this process opens the store to write below, as a build's own process does
    with Store(home / "store.duckdb").connect() as conn:
        assert list_aliases(conn) == []
        pending.import_into(conn, home)
        assert [(a["spelling"], a["target"], a["by"]) for a in list_aliases(conn)] == [("锦苑新居", "锦苑小区", "shequ")]
        match_addresses(conn)
        got = dict(conn.execute("SELECT record_no, house_code FROM core.address_matches WHERE template = 'hukou'").fetchall())
    assert got == {"HK1": "H1", "HK2": "H3", "HK3": "H2", "HK4": "H6", "HK5": "H3"}


def test_another_jurisdictions_spelling_is_refused(app):
    c = logged_in(app, "hebin")                                  # 河滨社区, the other street
    page = c.get("/queue/addresses")
    assert page.status_code == 200 and "锦苑新居" not in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = c.post("/queue/address-alias", data={"csrf": token, "kind": "compound", "spelling": "锦苑新居",
                                             "target": "锦苑小区", "reason": "x"})
    assert r.status_code == 403
    assert client(app).get("/queue/addresses").status_code == 303                  # not logged in
    assert logged_in(app, "jiaoyu").get("/queue/addresses").status_code == 403     # no steward


@pytest.mark.slow   # a browser journey over its own store
def test_a_steward_settles_a_spelling_in_the_browser(browser, tmp_path, schema_template):  # noqa: F811
    home = _home(tmp_path / "home", schema_template)
    with serving(create_app(home)) as url:
        ctx, page = _login(browser, url, "shequ")
        page.goto(f"{url}/queue/addresses")
        row = page.locator("tr", has_text="锦苑新居")
        assert row.locator("td.num").first.inner_text() == "3"
        page.screenshot(path=str(tmp_path / "queue-addresses.png"), full_page=True)
        row.locator("input[name=target]").fill("锦苑小区")
        row.locator("input[name=reason]").fill("现场核实")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(".flash.ok")
        assert "小区写法“锦苑新居”认定为“锦苑小区”" in page.locator(".flash.ok").inner_text()
        ctx.close()
    assert [(a[2], a[10]) for a in pending.waiting_aliases(home)] == [("锦苑新居", "shequ")]
