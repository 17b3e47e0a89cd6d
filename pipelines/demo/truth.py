"""The truth of the demo world: the contract's status rules applied with perfect linkage.

Computed from the very rows written to the inbox (minus rows a loader may refuse),
so the truth is what a perfect store would conclude, not what the generator meant.
"""
from __future__ import annotations

import datetime as dt

import polars as pl

W_DAYS = 365
DEPARTURE_VISITS = ("已搬离", "人户分离", "查无此人")


def status_tables(frames: dict[str, pl.DataFrame], humans: pl.DataFrame, house_grid: pl.DataFrame,
                  as_of: dt.date) -> pl.DataFrame:
    """One row per human: 状态, 人员类别, 房屋 (current house index), registered."""
    D = pl.lit(as_of)

    def keep(template, *cols):
        # Narrow first: the frames carry every text column of the template.
        return (frames[template].select("_hi", "_reject", "_house", *cols)
                .filter((pl.col("_hi") >= 0) & ~pl.col("_reject")))

    res = keep("residents", "采集日期", "人员类别")
    vis = keep("visits", "走访日期", "走访结果")
    huk = keep("hukou", "户籍状态", "变动日期")
    flo = keep("floating", "登记日期", "居住证有效期至", "注销日期", "注销原因")
    dea = keep("deaths", "死亡日期")
    f_live = flo.filter(pl.col("注销日期").is_null() | (pl.col("注销日期") > D))
    presence = pl.concat([
        res.select("_hi", pl.col("采集日期").alias("d"), pl.col("_house").alias("h")),
        vis.filter(pl.col("走访结果") == "在住").select("_hi", pl.col("走访日期").alias("d"), pl.col("_house").alias("h")),
        f_live.select("_hi", pl.col("登记日期").alias("d"), pl.col("_house").alias("h")),
        f_live.filter(pl.col("居住证有效期至") >= D).select("_hi", D.alias("d"), pl.col("_house").alias("h")),
    ]).filter((pl.col("d") <= D) & (pl.col("h") >= 0))
    P = (presence.sort("_hi", "d", "h").group_by("_hi", maintain_order=True).last()
         .rename({"d": "p_date", "h": "p_house"}))

    death = pl.concat([
        dea.select("_hi", pl.col("死亡日期").alias("d")),
        huk.filter(pl.col("户籍状态") == "死亡").select("_hi", pl.col("变动日期").fill_null(D).alias("d")),
        flo.filter(pl.col("注销原因") == "死亡").select("_hi", pl.col("注销日期").alias("d")),
        vis.filter(pl.col("走访结果") == "已死亡").select("_hi", pl.col("走访日期").alias("d")),
    ]).filter(pl.col("d") <= D).select("_hi").unique().with_columns(dead=pl.lit(True))

    dereg = pl.concat([
        huk.filter(pl.col("户籍状态").is_in(["迁出", "注销"])).select("_hi", pl.col("变动日期").fill_null(D).alias("d")),
        flo.filter(pl.col("注销日期").is_not_null() & (pl.col("注销原因") != "死亡"))
        .select("_hi", pl.col("注销日期").alias("d")),
    ]).filter(pl.col("d") <= D)
    any_dereg = pl.concat([
        dereg.select("_hi"),
        flo.filter(pl.col("注销日期").is_not_null() & (pl.col("注销日期") <= D)).select("_hi"),
    ]).unique().with_columns(deregistered=pl.lit(True))
    visit_dep = (vis.filter(pl.col("走访结果").is_in(DEPARTURE_VISITS) & (pl.col("走访日期") <= D))
                 .join(P, on="_hi").filter(pl.col("_house") == pl.col("p_house"))
                 .select("_hi", pl.col("走访日期").alias("d")))
    departure = pl.concat([dereg, visit_dep]).group_by("_hi").agg(pl.col("d").max().alias("dep_date"))

    hukou_ok = huk.filter(pl.col("户籍状态") == "正常").select("_hi").unique().with_columns(hk=pl.lit(True))
    has_float = flo.select("_hi").unique().with_columns(fl=pl.lit(True))
    res_cat = (res.sort("_hi", "采集日期", "人员类别").group_by("_hi", maintain_order=True).last()
               .select("_hi", pl.col("人员类别").alias("res_cat")))

    t = (humans.select(pl.col("_i").alias("_hi"), "human_id")
         .join(P, on="_hi", how="left").join(death, on="_hi", how="left")
         .join(departure, on="_hi", how="left").join(any_dereg, on="_hi", how="left")
         .join(hukou_ok, on="_hi", how="left").join(has_float, on="_hi", how="left")
         .join(res_cat, on="_hi", how="left")
         .with_columns(pl.col("dead", "deregistered", "hk", "fl").fill_null(False)))
    fresh_from = D - pl.duration(days=W_DAYS)
    status = (pl.when(pl.col("dead")).then(pl.lit("死亡"))
              .when(pl.col("dep_date").is_not_null()
                    & (pl.col("p_date").is_null() | (pl.col("dep_date") > pl.col("p_date")))).then(pl.lit("已离开"))
              .when(pl.col("p_date").is_not_null() & (pl.col("p_date") >= fresh_from)).then(pl.lit("在住"))
              .otherwise(pl.lit("待核实")))
    category = (pl.when(pl.col("hk")).then(pl.lit("户籍人口"))
                .when(pl.col("fl")).then(pl.lit("流动人口"))
                .otherwise(pl.col("res_cat")))
    t = t.with_columns(状态=status, 人员类别=category)
    t = t.with_columns(registered=pl.col("p_house").is_not_null() & (pl.col("状态") != "死亡") & ~pl.col("deregistered"))
    return (t.join(house_grid, left_on="p_house", right_on="_house", how="left")
            .sort("_hi"))
