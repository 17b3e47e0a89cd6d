"""The portal over a versioned home: it reads the live version while a build runs (a notice, never a 503), switches
to the new version when it is published, and a download never holds up a page."""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import shutil
import subprocess
import sys
import time

import pytest
from starlette.testclient import TestClient

from pipelines import versions
from pipelines.paths import REPO_ROOT, store_path
from pipelines.store import Store
from pipelines.web import create_app, ensure_demo_users
from pipelines.web.data import areas, as_of_dates
from tests.web.portal_world import login

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def versioned(small_street, tmp_path_factory):
    root = tmp_path_factory.mktemp("portal-versions")
    for part in ("inbox", "home"):
        shutil.copytree(small_street / part, root / part, symlinks=True)
    accounts = {user: password for user, password, *_ in ensure_demo_users(root / "home")}
    return root, accounts


def _client(app, user, password) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    assert login(c, user, password).status_code == 303
    return c


def test_pages_read_the_live_version_while_a_build_runs_and_switch_when_it_is_published(versioned):
    root, accounts = versioned
    home, inbox = root / "home", root / "inbox"
    app = create_app(home)
    c = _client(app, "jiedao", accounts["jiedao"])
    before = versions.live(home)
    live_file = before.store
    stamp = live_file.stat().st_mtime_ns
    source = sorted((inbox / "visits").glob("*.csv"))[0]
    lines = source.read_bytes().splitlines(keepends=True)
    (inbox / "visits" / "门户测试补充走访.csv").write_bytes(b"".join(lines[:6]))

    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "run", "--home", str(home), "--inbox", str(inbox),
                             "--as-of", AS_OF.isoformat()], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    paths = ["/", "/runs", "/reports", "/queue", "/scorecard", "/extracts",
             "/reports/list?name=elderly-80plus&as_of=2026-10-31&list=list",
             "/extracts/download?name=grid-population&fmt=csv&as_of=2026-10-31"]
    codes, noticed, during = [], [], 0
    while proc.poll() is None:
        for path in paths:
            r = c.get(path)
            codes.append((path, r.status_code))
            if "正在更新，当前显示" in r.text:
                noticed.append(r.text)
        during += 1
    out = proc.communicate()[0]
    assert proc.returncode == 0, out
    assert during >= 2 and all(code == 200 for _, code in codes), [x for x in codes if x[1] != 200]
    assert noticed, "no page said the data was being updated"
    assert f"当前显示 {before.built_at[:16]} 时的数据（数据版本 {before.id}）" in noticed[0]
    # published: the next request reads the new version, and says which
    after = versions.live(home)
    assert after.id != before.id
    page = c.get("/").text
    assert "正在更新" not in page and f"数据版本 {after.id}" in page
    runs = c.get("/runs").text
    assert "门户测试补充走访.csv" in runs and "当前版本" in runs
    # the portal only read: the version it served was never written
    assert live_file.stat().st_mtime_ns == stamp


def test_a_download_does_not_hold_up_pages(versioned):
    """A few large downloads (the street's person-sources in XLSX, each its own file) and pages at the same time: a
    page asked for after the downloads started is answered before they finish (they share the read-only version;
    nothing waits for a lock)."""
    root, accounts = versioned
    app = create_app(root / "home")
    steward = _client(app, "steward", accounts["steward"])
    street = _client(app, "jiedao", accounts["jiedao"])
    done: dict[str, float] = {}

    def download(scope: str) -> int:
        r = steward.get(f"/extracts/download?name=person-sources&fmt=xlsx&as_of=2026-10-31&scope={scope}")
        done[scope] = time.monotonic()
        return r.status_code

    with Store(store_path(root / "home")).connect(read_only=True) as conn:
        scopes = [a.code for a in areas(conn, "street", conn.execute(
            "SELECT min(street_code) FROM marts.grids").fetchall()[0][0])]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        downloads = [pool.submit(download, s) for s in scopes[:3]]
        time.sleep(0.05)
        page_done = []
        for _ in range(5):
            assert street.get("/").status_code == 200
            page_done.append(time.monotonic())
        assert [d.result() for d in downloads] == [200] * len(downloads)
    slowest_download = max(done.values()) - started
    assert page_done[0] < max(done.values()), (page_done[0] - started, slowest_download)


def test_pages_read_the_small_aggregates_and_a_version_without_them_says_so(versioned, tmp_path):
    root, accounts = versioned
    with Store(store_path(root / "home")).connect(read_only=True) as conn:
        street = conn.execute("SELECT min(street_code) FROM marts.grids").fetchall()[0][0]
        with_marts = (areas(conn, "street", street), as_of_dates(conn))
        assert conn.execute("SELECT count(*) FROM marts.portal_areas").fetchall()[0][0] == len(with_marts[0])
    assert with_marts[1] == [AS_OF.isoformat()] and len(with_marts[0]) > 2
    # a version published before the marts existed (2026-12-06): no dates nor areas, and every page says why
    old = root / "old-home"
    shutil.copytree(root / "home", old, symlinks=True)
    with Store(store_path(old)).connect() as conn:
        for name in ("portal_areas", "portal_dates", "portal_issue_counts"):
            conn.execute(f"DROP TABLE marts.{name}")
    with Store(store_path(old)).connect(read_only=True) as conn:
        assert (areas(conn, "street", street), as_of_dates(conn)) == ([], [])
    page = _client(create_app(old), "jiedao", accounts["jiedao"]).get("/")
    assert page.status_code == 200
    assert "由较早版本的 onceonly 写成，门户无法读取其统计截止日期和辖区" in page.text


def test_a_user_makes_at_most_their_share_of_files_at_once_and_files_are_made_once(versioned, monkeypatch):
    """Files still to make for this version wait for one of the user's slots (here 1): never two of the user's XLSX in
    the making at once; a wait that runs out is a 429 saying why; a file made is handed out again without making."""
    from pipelines.web import pages

    root, accounts = versioned
    home = root / "home"
    app = create_app(home)
    gongan = _client(app, "gongan", accounts["gongan"])
    monkeypatch.setattr(pages, "DOWNLOADS_PER_USER", 1)
    with Store(store_path(home)).connect(read_only=True) as conn:
        street = conn.execute("SELECT min(street_code) FROM core.grids").fetchall()[0][0]
        scopes = [a.code for a in areas(conn, "street", street)][:3]
    folder = versions.live(home).dir / "files" / "extracts"
    making, stop = [], False

    def watch():
        while not stop:
            making.append(len(list(folder.rglob(".floating-population.xlsx.*"))) if folder.exists() else 0)
            time.sleep(0.005)

    def get(scope):
        return gongan.get(f"/extracts/download?name=floating-population&fmt=xlsx&as_of=2026-10-31&scope={scope}")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        watcher = pool.submit(watch)
        results = list(pool.map(get, scopes))
        stop = True
        watcher.result()
    assert [r.status_code for r in results] == [200] * len(scopes)
    assert max(making) == 1, max(making)            # one in the making at a time, the others waited
    # made once: asked again, the same bytes at once (nothing in the making)
    again = get(scopes[0])
    assert again.content == results[0].content

    monkeypatch.setattr(pages, "DOWNLOAD_WAIT_S", 0.01)
    minzheng = _client(app, "minzheng", accounts["minzheng"])
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(r.status_code for r in pool.map(
            lambda scope: minzheng.get(f"/extracts/download?name=person-sources&fmt=xlsx&as_of=2026-10-31&scope={scope}"),
            scopes[:2]))
    assert codes == [200, 429]
    refused = minzheng.get(f"/extracts/download?name=person-sources&fmt=xlsx&as_of=2026-10-31&scope={scopes[2]}")
    assert refused.status_code == 200    # nothing else in the making now


def test_the_cap_is_per_user_another_users_files_are_made_meanwhile(versioned, monkeypatch):
    """民政 asks for two files still to make with one slot: one is made, the other answered 429 when its wait runs out;
    公安, asking at the same moment for a file still to make, is not held up by 民政's slot."""
    from pipelines.web import pages

    root, accounts = versioned
    home = root / "home"
    app = create_app(home)
    minzheng = _client(app, "minzheng", accounts["minzheng"])
    gongan = _client(app, "gongan", accounts["gongan"])
    monkeypatch.setattr(pages, "DOWNLOADS_PER_USER", 1)
    monkeypatch.setattr(pages, "DOWNLOAD_WAIT_S", 0.01)
    with Store(store_path(home)).connect(read_only=True) as conn:
        street = conn.execute("SELECT min(street_code) FROM core.grids").fetchall()[0][0]
        scopes = [a.code for a in areas(conn, "street", street)]
    made = versions.live(home).dir / "files" / "extracts" / AS_OF.isoformat()
    # areas no earlier test of this module asked for in XLSX: the files are still to make
    fresh = [s for s in scopes if not (made / "民政" / s / "person-sources.xlsx").exists()
             and not (made / "公安" / s / "floating-population.xlsx").exists()]
    assert len(fresh) >= 2, scopes

    def ask(client, name, scope):
        return client.get(f"/extracts/download?name={name}&fmt=xlsx&as_of={AS_OF}&scope={scope}").status_code

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        theirs = [pool.submit(ask, minzheng, "person-sources", s) for s in fresh[:2]]
        other = pool.submit(ask, gongan, "floating-population", fresh[0])
        assert sorted(f.result() for f in theirs) == [200, 429]
        assert other.result() == 200
    assert (made / "公安" / fresh[0] / "floating-population.xlsx").exists()
