"""`onceonly demo`: write the messy demo street (or a city of streets) into an inbox, and its truth next to it.

Up to ``STREET_MAX_PERSONS`` persons the inbox is one street, 玉林街道, exactly as it always was.
Above it the city is k near-equal streets, generated and written one at a time so memory holds
one street; their files share the inbox's template folders and their truth files are appended.
With ``by_district`` each street's files go under ``inbox/<区县代码>/<template>/`` instead: the layout of a
deployment partitioned by district (docs/scale-out.md), one truth for the whole city.
"""
from __future__ import annotations

import datetime as dt
import gc
import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.demo import followup as second_month, mess
from pipelines.demo.evidence import Evidence
from pipelines.demo.streets import Street, street as street_of
from pipelines.demo.truth import status_tables
from pipelines.demo.world import _Gen, id_strings
from pipelines.demo.writer import Inbox

PREFIX = {"residents": "SQ", "visits": "ZF", "hukou": "HJ", "floating": "LD", "assistance": "JZ",
          "deaths": "SW", "disability": "CJ"}
MAIN_DATE = {"residents": "采集日期", "visits": "走访日期", "hukou": "变动日期", "floating": "登记日期",
             "assistance": "起始日期", "deaths": "死亡日期", "disability": "发证日期"}
# One street holds about 2 GB per million persons while it is built: a city is written street by street.
STREET_MAX_PERSONS = 1_000_000


def generate(out: Path, truth: Path, *, persons: int = 20000, seed: int = 7,
             as_of: dt.date = dt.date(2026, 10, 31), street_max: int = STREET_MAX_PERSONS,
             street_index: int | None = None, by_district: bool = False) -> dict:
    """Generate the demo inbox under ``out`` and its truth under ``truth``; returns summary counts.

    ``persons`` above ``street_max`` makes a city of ceil(persons / street_max) streets.
    ``street_index`` adds one street of ``persons`` with that index to an existing inbox and truth
    (nothing is wiped; its IDs avoid those already in ``truth/persons.csv``).
    ``by_district`` writes each street under ``out/<its district_code>/``; the truth's 文件 stay relative to ``out``.
    """
    out, truth = Path(out), Path(truth)
    if street_index is not None:
        st = street_of(street_index)
        files = out.glob("*/*/*" if by_district else "*/*")
        if st.file_prefix and out.is_dir() and any(p.name.startswith(st.file_prefix) for p in files):
            raise FileExistsError(f"{out} 中已有 {st.name} 的文件")
        for d in (out, truth):
            d.mkdir(parents=True, exist_ok=True)
        summary, _ = _street(out, truth, st, persons, _street_seed(seed, street_index), as_of, _taken_ids(truth),
                             by_district)
        summary["streets"] = 1
        return summary
    if street_max < 1:
        raise ValueError("street_max 须为正数")
    for d in (out, truth):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    k = math.ceil(persons / street_max)
    if k <= 1:
        return _street(out, truth, street_of(0), persons, seed, as_of, None, by_district,
                       followup=not by_district)[0]
    sizes = persons // k + (np.arange(k) < persons % k)
    summaries = []
    taken = np.zeros(0, np.int64)
    for s in range(k):
        summary, bodies = _street(out, truth, street_of(s), int(sizes[s]), _street_seed(seed, s), as_of, taken,
                                  by_district)
        summaries.append(summary)
        taken = np.union1d(taken, bodies)
        del bodies
        gc.collect()
    merged = _merge(summaries)
    merged["streets"] = k
    return merged


def _street_seed(seed: int, s: int):
    # Street 0 keeps the plain seed: a city's first street is the one-street demo of its size.
    return seed if s == 0 else [seed, s]


def _taken_ids(truth: Path) -> np.ndarray | None:
    """ID bodies (17 digits) of the humans already in ``truth/persons.csv``, sorted; None when there is none."""
    path = truth / "persons.csv"
    if not path.exists():
        return None
    ids = pl.read_csv(path, columns=["公民身份号码"], schema_overrides={"公民身份号码": pl.String})["公民身份号码"]
    return np.unique(ids.drop_nulls().str.slice(0, 17).cast(pl.Int64).to_numpy())


def _merge(summaries: list[dict]) -> dict:
    out: dict = {}
    for summ in summaries:
        for key, value in summ.items():
            if isinstance(value, dict):
                acc = out.setdefault(key, {})
                for k2, v2 in value.items():
                    acc[k2] = acc.get(k2, 0) + v2
            else:
                out[key] = out.get(key, 0) + value
    out["status"] = dict(sorted(out["status"].items()))
    return out


def _street(out: Path, truth: Path, st: Street, persons: int, seed, as_of: dt.date,
            taken: np.ndarray | None, by_district: bool = False, followup: bool = False) -> tuple[dict, np.ndarray]:
    """Write one street's files into ``out`` and append its truth to ``truth``; summary and its ID bodies.
    ``followup``: also prepare the street's second month (pipelines/demo/followup.py)."""
    gen = _Gen(persons, seed, as_of, st, taken)
    gen.grids()
    gen.people()
    ev = Evidence(gen)
    frames = ev.build()
    body = gen.humans["_body"].to_numpy()
    h_comm = gen.houses["_comm"].to_numpy()
    for t, df in frames.items():
        df = mess.apply(t, df, body, gen.rng)
        if t == "residents":
            df = mess.children(df, gen.humans, gen.family_rng)
        df = ev.unregistered_dropped(t, df)
        home = df["_addr_house"] if "_addr_house" in df.columns else df["_house"]
        df = df.with_columns(_home=home, _comm=pl.Series(h_comm[home.to_numpy()]), _reject=pl.lit(False),
                             _bad_field=pl.lit(None, pl.String), _bad_value=pl.lit(None, pl.String))
        df = df.sort("_comm", "_home", MAIN_DATE[t], "_hi", nulls_last=True, maintain_order=True)
        df = df.with_columns(记录编号=pl.lit(PREFIX[t] + st.record_infix)
                         + pl.Series(np.arange(1, len(df) + 1)).cast(pl.String).str.zfill(9))
        frames[t] = df
    frames = _loader_traps(frames, ev, gen)
    frames = _privacy_fields(frames, gen)

    houses = gen.houses
    house_grid = houses.select("_house", "房屋编码", "_grid").join(
        gen.microgrids.select("_grid", "网格编码").unique("_grid"), on="_grid").sort("_house")
    st = status_tables(frames, gen.humans, house_grid.select("_house", "房屋编码", "网格编码"), as_of)

    inbox = Inbox(out, gen.rng, as_of, folder=gen.st.district_code if by_district else "")
    humans = gen.humans["human_id"]
    _write_inbox(inbox, frames, gen, humans, as_of)
    summary = _write_truth(truth, inbox, frames, st, gen, as_of)
    if followup:
        summary["followup"] = second_month.prepare(truth, frames=frames, gen=gen, house_grid=house_grid, st=st,
                                                   inbox=inbox, as_of=as_of)["as_of"]
    summary["persons"] = len(humans)
    summary["files"] = len(inbox.files)
    summary["rows"] = {t: len(df) for t, df in frames.items()}
    return summary, gen.humans["_body"].to_numpy()


def _loader_traps(frames, ev, gen):
    """Rows a loader may refuse: invalid dates and an ID Excel turned into a number.

    They only fall on people with a second, fresh presence, so the truth does not hang on them.
    """
    red = pl.Series(ev.redundant)
    p0 = ev.p0

    def mark(t, cond, field, value):
        frames[t] = frames[t].with_columns(
            _reject=pl.when(cond).then(True).otherwise(pl.col("_reject")),
            _bad_field=pl.when(cond).then(pl.lit(field)).otherwise(pl.col("_bad_field")),
            _bad_value=pl.when(cond).then(value).otherwise(pl.col("_bad_value")))

    res = frames["residents"]
    bad = res.with_row_index("_r").filter(pl.col("_hi").is_in(red.implode()) & pl.col("_main")
                                          & (pl.col("_hi") != p0)).head(3)["_r"]
    mark("residents", pl.int_range(pl.len()).is_in(bad.implode()), "出生日期",
         pl.col("出生日期").dt.strftime("%Y") + "-02-30")
    # p0: the ID cell becomes a number in the small residents workbook; keep the true ID in the row.
    true_id = dict(zip(gen.humans["_i"].to_list()[p0:p0 + 1], gen.humans["公民身份号码"].to_list()[p0:p0 + 1]))
    cond = (pl.col("_hi") == p0) & pl.col("_main")
    frames["residents"] = frames["residents"].with_columns(
        公民身份号码=pl.when(cond).then(pl.lit(true_id.get(p0))).otherwise(pl.col("公民身份号码")),
        _reject=pl.when(cond).then(True).otherwise(pl.col("_reject")),
        _numeric_id=cond)
    # Not the same people as above: someone must keep a row that tells their category.
    taken = pl.concat([res.with_row_index("_r").filter(pl.col("_r").is_in(bad.implode()))["_hi"],
                       pl.Series([p0], dtype=res["_hi"].dtype)])
    hk = (frames["hukou"].with_row_index("_r")
          .filter(pl.col("_hi").is_in(red.implode()) & ~pl.col("_hi").is_in(taken.implode())).head(3)["_r"])
    mark("hukou", pl.int_range(pl.len()).is_in(hk.implode()), "出生日期",
         pl.col("出生日期").dt.strftime("%Y") + "0230")
    dis = frames["disability"].with_row_index("_r").filter(pl.col("_hi") >= 0).head(2)["_r"]
    mark("disability", pl.int_range(pl.len()).is_in(dis.implode()), "发证日期", pl.lit("2019-13-01"))
    return frames


def _privacy_rng(gen) -> np.random.Generator:
    """Draws of the privacy fields come from a stream of their own: adding them left every other value of
    the demo as it was."""
    return np.random.default_rng([*np.atleast_1d(gen.seed), 19])


def _privacy_fields(frames, gen):
    """Values real exports carry that hold an ID or a phone where no column says so, and consent.

    - 居住证号码: in many cities the residence permit number *is* the holder's ID (40 % of permits here);
    - 走访记录 备注: a grid worker notes the ID or phone checked on a visit (2 % of visits with a person);
    - 公开联系方式: consent to publish the phone, mostly given by 楼栋长 and 居民骨干, the courtyard's contacts.
    """
    rng = _privacy_rng(gen)
    ids, phones = gen.humans["公民身份号码"], gen.humans["联系电话"]

    flo = frames["floating"]
    hi = flo["_hi"].to_numpy()
    same = pl.Series(rng.random(len(flo)) < .4) & flo["居住证号码"].is_not_null()
    frames["floating"] = flo.with_columns(居住证号码=pl.when(same).then(ids.gather(hi)).otherwise(pl.col("居住证号码")))

    vis = frames["visits"]
    hi = vis["_hi"].to_numpy()
    known = hi >= 0
    safe = np.where(known, hi, 0)
    pick_ = rng.integers(0, 3, len(vis))
    note = pl.Series(np.where(pick_ == 0, "核对身份证", np.where(pick_ == 1, "本人身份证号：", "户主身份证"))) \
        + ids.gather(safe) + pl.Series(np.where(pick_ == 2, "，已核实", "，本人在住"))
    call = pl.lit("已电话联系（") + phones.gather(safe) + pl.lit("），本人在家")
    noted = pl.Series(known & (rng.random(len(vis)) < .02))
    by_phone = pl.Series(rng.random(len(vis)) < .35) & phones.gather(safe).is_not_null()
    frames["visits"] = vis.with_columns(
        备注=pl.when(noted & by_phone).then(call).when(noted).then(note).otherwise(pl.col("备注")))

    res = frames["residents"]
    tags = res["人员标签"].fill_null("")
    lead = tags.str.contains("楼栋长") | tags.str.contains("居民骨干")
    r = pl.Series(rng.random(len(res)))
    spelled = pl.Series(np.where(rng.random(len(res)) < .8, "是", "同意"))
    answer = (pl.when(lead & (r < .75)).then(spelled).when(lead & (r < .85)).then(pl.lit("否"))
              .when(~lead & (r < .015)).then(spelled).when(~lead & (r < .2)).then(pl.lit("否")))
    frames["residents"] = res.with_columns(
        公开联系方式=pl.when(pl.col("联系电话").is_not_null()).then(answer))
    return frames


def _owner_ids(gen, n: int) -> pl.Series:
    """产权人身份证号 of the houses: half the houses state one (owners mostly live elsewhere, so these are
    nobody of the demo's persons); a few are mistyped (the check character is wrong)."""
    rng = _privacy_rng(gen)
    rng.random(7)               # not the first draws of _privacy_fields' stream
    born = (np.datetime64("1950-01-01") + rng.integers(0, 45 * 365, n)).astype("datetime64[D]")
    ymd = np.char.replace(born.astype(str), "-", "").astype(np.int64)
    body = np.int64(510104) * 10**11 + ymd * 1000 + rng.integers(0, 1000, n)
    typo, stated = pl.Series(rng.random(n) < .003), pl.Series(rng.random(n) < .5)
    return pl.DataFrame({"id": id_strings(body), "typo": typo, "stated": stated}).select(
        pl.when(~pl.col("stated")).then(None)
        .when(pl.col("typo")).then(pl.col("id").str.slice(0, 17)
                                   + pl.when(pl.col("id").str.ends_with("1")).then(pl.lit("2")).otherwise(pl.lit("1")))
        .otherwise(pl.col("id")).alias("id"))["id"]


def _write_inbox(inbox: Inbox, frames, gen, humans, as_of):
    comms = gen.st.communities
    pre = gen.st.file_prefix
    # grids
    mg = gen.microgrids
    if len(mg) <= 3000:
        inbox.xlsx("grids", f"{pre}网格划分表.xlsx", mg, total=False)
    else:
        inbox.csv("grids", f"{pre}网格划分表.csv", mg)

    # housing: the first grid as a workbook with real date cells, the rest one CSV per community
    hs = gen.houses.with_columns(
        采集日期=pl.Series(gen.D - gen.u(30, 1500, len(gen.houses))).cast(pl.Int32).cast(pl.Date),
        产权人姓名=pl.Series(gen.names(len(gen.houses), gen.p(.5, len(gen.houses)))),
        产权人身份证号=_owner_ids(gen, len(gen.houses)),
        楼栋=pl.col("_b").cast(pl.String) + pl.when(pl.col("_comm") % 2 == 0).then(pl.lit("栋")).otherwise(pl.lit("")),
        单元=pl.col("_u").cast(pl.String) + pl.when(pl.col("_comm") % 2 == 0).then(pl.lit("单元")).otherwise(pl.lit("")),
        楼层=pl.col("_fl").cast(pl.String),
        房号=pl.col("_rm").cast(pl.String) + pl.when(pl.col("_comm") == 1).then(pl.lit("室")).otherwise(pl.lit("")),
    )
    first = hs.filter(pl.col("_grid") == 0)
    inbox.xlsx("housing", f"{pre}{comms[0]}{gen.g['compound'][0]}实有房屋.xlsx", first,
               title=f"{comms[0]}实有房屋采集表", date_cells=True)
    for c, name in enumerate(comms):
        part = hs.filter((pl.col("_comm") == c) & (pl.col("_grid") != 0))
        if len(part):
            inbox.csv("housing", f"{pre}{name}实有房屋.csv", part, encoding="gbk" if c == 2 else "utf-8")

    # residents: per community, this year's round and the history; micro-grid 0's round as a workbook
    res = frames["residents"]
    cut = as_of - dt.timedelta(days=365)
    mg_of = pl.Series(gen.h["mg"])
    res = res.with_columns(_mg=mg_of.gather(res["_house"]))
    small = res.filter((pl.col("_mg") == 0) & (pl.col("采集日期") > cut))
    numeric = small.with_row_index("_r").filter(pl.col("_numeric_id"))["_r"].to_list()
    inbox.xlsx("residents", f"{pre}{comms[0]}第1微网格实有人口补录.xlsx", small, humans=humans,
               title=f"{comms[0]}实有人口采集表", numeric_id_row=numeric[0] if numeric else None,
               force={"公民身份号码": "身份证号"})
    rest = res.filter(~((pl.col("_mg") == 0) & (pl.col("采集日期") > cut)))
    enc_now = {2: "utf-8-sig", 3: "gb18030"}
    for c, name in enumerate(comms):
        now = rest.filter((pl.col("_comm") == c) & (pl.col("采集日期") > cut))
        old = rest.filter((pl.col("_comm") == c) & (pl.col("采集日期") <= cut))
        if len(now):
            inbox.csv("residents", f"{pre}{as_of.year}年{name}实有人口采集.csv", now, humans=humans,
                      encoding=enc_now.get(c, "utf-8"), force={"公民身份号码": "公民身份号码"},
                      drop=("记录编号", "民族") if c == 4 else ())
        if len(old):
            inbox.csv("residents", f"{pre}{name}实有人口历史数据.csv", old, humans=humans,
                      encoding="gbk" if c == 1 else "utf-8", force={"公民身份号码": "身份证号"})

    vis = frames["visits"]
    for c, name in enumerate(comms):
        part = vis.filter(pl.col("_comm") == c)
        if len(part):
            inbox.csv("visits", f"{pre}{name}走访记录.csv", part, humans=humans,
                      encoding="gb18030" if c == 4 else "utf-8")

    station_of = pl.col("_comm") >= 3
    for s, station in enumerate(gen.st.police_stations):
        for t, enc in (("hukou", "gbk" if s == 1 else "utf-8"), ("floating", "utf-8-sig" if s == 0 else "utf-8")):
            part = frames[t].filter(station_of == bool(s))
            if len(part):
                label = "户籍人口" if t == "hukou" else "流动人口登记"
                inbox.csv(t, f"{pre}{station}{label}.csv", part, humans=humans, encoding=enc)

    inbox.csv("assistance", f"{pre}社会救助对象名册.csv", frames["assistance"], humans=humans, encoding="gbk")
    inbox.csv("deaths", f"{pre}死亡登记.csv", frames["deaths"], humans=humans)
    dis = frames["disability"]
    inbox.csv("disability", f"{pre}持证残疾人名册.csv", dis, humans=humans)
    # A supplement exported without the 姓名 column: the loader must refuse the whole file.
    supp = dis.filter(pl.col("_hi") >= 0).head(20)
    inbox.csv("disability", f"{pre}残疾人补充名单.csv", supp, humans=humans, drop=("姓名",))


def _write_truth(truth: Path, inbox: Inbox, frames, st: pl.DataFrame, gen, as_of) -> dict:
    records = pl.concat(inbox.records) if inbox.records else pl.DataFrame()
    _put(records, truth / "records.csv")

    grids = gen.microgrids.select("_grid", "网格编码", "网格名称", "网格类型").unique("_grid").sort("_grid")
    per = st.filter(pl.col("网格编码").is_not_null()).group_by("网格编码").agg(
        实有人口=(pl.col("状态") == "在住").sum().cast(pl.Int64),
        登记人口=pl.col("registered").sum().cast(pl.Int64))
    g = (grids.join(per, on="网格编码", how="left").with_columns(pl.col("实有人口", "登记人口").fill_null(0))
         .with_columns(over_1500_on_record=pl.col("登记人口") > 1500, over_1500_verified=pl.col("实有人口") > 1500)
         .drop("_grid"))
    _put(g, truth / "grids.csv")

    a = frames["assistance"].filter(~pl.col("_reject"))
    active = a.filter((pl.col("起始日期") <= as_of) & (pl.col("终止日期").is_null() | (pl.col("终止日期") >= as_of)))
    flagged = (active.join(st.select("_hi", "状态"), on="_hi")
               .filter(pl.col("状态").is_in(["死亡", "已离开", "待核实"]))
               .select("记录编号", "状态").sort("记录编号"))
    _put(flagged, truth / "assistance_check.csv")

    _put(_address_truth(frames, gen), truth / "addresses.csv")

    kinds = {0: "在住", 1: "已搬离", 2: "死亡", 3: "户籍在此未居住"}
    # 户编号 and 与户主关系 (the household the human lives in today) let the check name a wrong merge's kind.
    persons = st.join(gen.humans.select(pl.col("_i").alias("_hi"), "姓名", "公民身份号码", "出生日期", "_kind",
                                        "户编号", "与户主关系"), on="_hi").select(
        "human_id", "姓名", "公民身份号码", "出生日期", "状态", "人员类别", "房屋编码", "网格编码",
        pl.col("registered").alias("登记"), pl.col("_kind").replace_strict(kinds).alias("实际"),
        "户编号", pl.when(pl.col("户编号").is_not_null()).then(pl.col("与户主关系")).alias("与户主关系"))
    _put(persons, truth / "persons.csv")
    return {
        "grids": len(g),
        "microgrids": len(gen.microgrids),
        "houses": len(gen.houses),
        "实有人口": int(g["实有人口"].sum()),
        "登记人口": int(g["登记人口"].sum()),
        "grids_over_1500_on_record": int(g["over_1500_on_record"].sum()),
        "grids_over_1500_verified": int(g["over_1500_verified"].sum()),
        "assistance_check": len(flagged),
        "twin_pairs": len(gen.twin_pairs),
        "status": dict(st.group_by("状态").len().sort("状态").iter_rows()),
    }


ADDRESS_FIELDS = (("hukou", "户籍地址", "_house"), ("floating", "现居住地址", "_addr_house"),
                  ("assistance", "居住地址", "_house"))


def _address_truth(frames, gen) -> pl.DataFrame:
    """Every free-text address written to the inbox, with the house it was written for; 唯一 is 否 where the
    text was written to name no house (a building that does not exist) or several (compound and room)."""
    parts = []
    for template, field, house in ADDRESS_FIELDS:
        df = frames[template].filter(~pl.col("_reject"))
        issue = df["_issue"] if "_issue" in df.columns else pl.Series([0] * len(df))
        parts.append(pl.DataFrame({
            "来源": template, "记录编号": df["记录编号"], "地址": df[field],
            "房屋编码": pl.select(pl.when(issue == 0).then(gen.house_code.gather(df[house].to_numpy())))[:, 0],
            "唯一": pl.select(pl.when(issue == 0).then(pl.lit("是")).otherwise(pl.lit("否")))[:, 0]}))
    return pl.concat(parts)


def _put(df: pl.DataFrame, path: Path) -> None:
    """Write a truth file, or append to it when an earlier street of the city already wrote its header."""
    if not path.exists():
        df.write_csv(path)
        return
    with path.open("rb") as f:
        header = f.readline().decode("utf-8").rstrip("\r\n")
    if header != ",".join(df.columns):
        raise ValueError(f"{path} 的列与本街道的真值不一致：{header}")
    with path.open("ab") as f:
        df.write_csv(f, include_header=False)
