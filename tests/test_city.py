"""The city pass (pipelines/city.py): district stores plus the city pass give what one store of the same files
gives — every grid count, every status, the contract extracts and the monthly report — on a demo city whose
people move between districts (pipelines/demo/movers.py). Real demo files, real runs, real DuckDB stores."""
import datetime as dt
import re

import dagster as dg
import duckdb
import pytest

from pipelines import demo
from pipelines.city import differences
from pipelines.cli import main as cli
from pipelines.demo.movers import add_movers, flatten
from pipelines.districts import city_job, city_store
from pipelines.resources import RunSettings

AS_OF = dt.date(2026, 10, 31)


@pytest.mark.slow
def test_districts_plus_city_pass_equal_one_store(tmp_path, capsys):
    inbox, flat = tmp_path / "inbox", tmp_path / "flat"
    summary = demo.generate(inbox, tmp_path / "truth", persons=2000, seed=7, as_of=AS_OF, street_max=1000,
                            by_district=True)
    assert summary["streets"] == 2
    movers = add_movers(inbox, per_district=21, as_of=AS_OF)
    assert movers == 42
    flatten(inbox, flat)

    assert cli(["run", "--inbox", str(flat), "--home", str(tmp_path / "one"), "--as-of", AS_OF.isoformat()]) == 0
    capsys.readouterr()
    assert cli(["run", "--by-district", "--parallel", "1", "--inbox", str(inbox), "--home", str(tmp_path / "home"),
                "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    print(out)
    m = re.search(r"跨区县同一人 (\d+) 人已合并（其中按录错的身份证号 (\d+) 人，按姓名、出生日期等比对 (\d+) 人），"
                  r"按全市证据重新判定状态 (\d+) 人", out)
    assert m, out
    shared, typo, model, touched = map(int, m.groups())
    # every mover is one person of two districts: those whose new row had a mistyped ID through it, those whose
    # new row had no readable ID (every fourth: blank, or 5.10104E+17) through the model; and every seventh,
    # known to the new district by a death record alone, is dead city-wide
    assert shared == touched == movers and typo >= 1 and model == 10

    city, one = tmp_path / "home" / "city", tmp_path / "one"
    # Without the city pass the movers count twice: the districts' stores add up to more persons than one store
    # (but for a mover the new district knows by a death record alone, under a mistyped ID: a death register may
    # not found a person, so that district has none).
    with duckdb.connect(str(one / "store.duckdb"), read_only=True) as conn:
        one_persons, unfounded = conn.execute("""
            SELECT (SELECT count(*) FROM core.persons),
                   (SELECT count(*) FROM core.person_records WHERE template = 'deaths' AND record_no LIKE 'SW5101%'
                    AND NOT id_valid)""").fetchall()[0]
    district_sum = 0
    for code in ("510104", "510107"):
        with duckdb.connect(str(tmp_path / "home" / "districts" / code / "store.duckdb"), read_only=True) as conn:
            district_sum += conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0]
    assert district_sum == one_persons + movers - unfounded
    with duckdb.connect(str(city / "store.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0] == one_persons
        # a mover visited 已搬离 at the old house and collected at the new one: 在住 once, at the new house
        rows = conn.execute("""
            SELECT s.status, g.district_code FROM core.person_status s JOIN core.persons p USING (person_key)
            JOIN core.grids g ON g.microgrid_code = s.microgrid_code
            WHERE p.id_number IN (SELECT id_number FROM core.person_records WHERE template = 'visits'
                                  AND record_no LIKE 'QC%')""").fetchall()
        assert rows and all(status in ("在住", "死亡") for status, _ in rows)
        # a death the new district registered for a mover it never saw decides the mover's status everywhere
        dead = conn.execute("""
            SELECT s.status FROM core.person_status s JOIN core.person_links l USING (person_key)
            JOIN core.person_records r USING (record_id)
            WHERE r.template = 'deaths' AND r.record_no LIKE 'SW5101%'""").fetchall()
        assert len(dead) == 6 and {s for (s,) in dead} == {"死亡"}
        # a mover collected in the new district without a readable ID is the old district's person with the
        # valid ID, 在住 at the new house (the old district alone still counts them at the old one)
        no_id = conn.execute("""
            SELECT p.id_number, l.rule, s.status, s.house_code = r.house_code
            FROM core.person_records r JOIN core.person_links l USING (record_id)
            JOIN core.persons p USING (person_key) JOIN core.person_status s USING (person_key)
            WHERE r.template = 'residents' AND r.record_no LIKE 'QR%' AND NOT coalesce(r.id_valid, false)""").fetchall()
        assert len(no_id) == 10
        assert all(id_number and rule in ("name_match", "near_name_match", "score_match") and status == "在住" and here
                   for id_number, rule, status, here in no_id), no_id

    found = differences(city / "store.duckdb", one / "store.duckdb",
                        city_reports=city / "reports" / AS_OF.isoformat(),
                        one_reports=one / "reports" / AS_OF.isoformat())
    assert found == []

    # The same pass as a Dagster asset (city_store, downstream of the district partitions), for `dagster dev`.
    settings = RunSettings(home=str(tmp_path / "home"), inbox=str(inbox), as_of=AS_OF.isoformat())
    job = dg.Definitions(assets=[city_store], jobs=[city_job],
                         resources={"settings": settings}).resolve_job_def(city_job.name)
    with dg.DagsterInstance.ephemeral() as instance:
        run = job.execute_in_process(instance=instance)
    assert run.success
    meta = run.asset_materializations_for_node(city_store.op.name)[0].metadata
    assert meta["shared"].value == movers and meta["model"].value == 10 and meta["districts"].value == "510104, 510107"


def test_city_pass_without_district_stores_says_what_to_run(tmp_path):
    from pipelines.city import CityPassError, city_pass
    from pipelines.store import Store

    with pytest.raises(CityPassError, match="没有区县数据库：请先运行 onceonly run --by-district"):
        city_pass(home=tmp_path, as_of=AS_OF)
    with Store(tmp_path / "districts" / "510104" / "store.duckdb").connect():
        pass
    with pytest.raises(CityPassError, match="区县 510107 还没有数据库"):
        city_pass(home=tmp_path, as_of=AS_OF, codes=["510104", "510107"])
