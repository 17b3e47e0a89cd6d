"""`onceonly demo --check`: how close the store's outputs come to the demo truth.

Linkage is scored over pairs of source rows: a pair is predicted when both rows carry the
same 人员主键 and true when both belong to the same human. Pairs are counted per cluster
(n·(n-1)/2), never enumerated, so millions of rows cost one group-by.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

TARGETS = {"precision": 0.995, "recall": 0.99, "grid_error": 0.01, "f1": 0.98, "address_match": 0.99}


def _pairs(col: str) -> pl.Expr:
    n = pl.len().cast(pl.Int64)
    return (n * (n - 1) // 2).alias(col)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def linkage_scores(rows: pl.DataFrame) -> dict:
    """``rows``: one row per source row with ``person_key`` and ``human_id`` (empty/NULL = a singleton)."""
    rows = rows.with_columns(
        person_key=pl.when(pl.col("person_key") == "").then(None).otherwise(pl.col("person_key")),
        human_id=pl.when(pl.col("human_id") == "").then(None).otherwise(pl.col("human_id")))
    pred = rows.filter(pl.col("person_key").is_not_null()).group_by("person_key").agg(_pairs("p"))["p"].sum()
    true = rows.filter(pl.col("human_id").is_not_null()).group_by("human_id").agg(_pairs("t"))["t"].sum()
    both = (rows.filter(pl.col("person_key").is_not_null() & pl.col("human_id").is_not_null())
            .group_by("person_key", "human_id").agg(_pairs("b"))["b"].sum())
    pred, true, both = int(pred or 0), int(true or 0), int(both or 0)
    return {
        "pairs_predicted": pred, "pairs_true": true, "pairs_correct": both,
        "precision": both / pred if pred else 1.0,
        "recall": both / true if true else 1.0,
    }


MERGE_KINDS = {"twins": "双胞胎", "parent_child": "父母子女", "siblings": "兄弟姐妹", "other": "其他"}
CHILD = ("子", "女")


def false_merges(rows: pl.DataFrame, persons: pl.DataFrame | None) -> dict:
    """Pairs of different humans the store made one person, by what the two are to each other:
    twins (children of one household born the same day), parent_child, siblings (children of one household),
    other (spouses, neighbours, strangers). ``rows``: person_key and human_id per source row; ``persons``:
    the truth's persons.csv with 户编号, 与户主关系 and 出生日期 (None: every pair counts as other). Also the
    number of twin pairs the truth holds, so "0 merged" can be read against how many there were."""
    rows = rows.filter(pl.col("person_key").is_not_null() & (pl.col("person_key") != "")
                       & pl.col("human_id").is_not_null() & (pl.col("human_id") != ""))
    members = rows.select("person_key", "human_id").unique()
    mixed = members.group_by("person_key").agg(pl.len().alias("n")).filter(pl.col("n") > 1)
    members = members.join(mixed.select("person_key"), on="person_key")
    pairs = (members.join(members, on="person_key", suffix="_b")
             .filter(pl.col("human_id") < pl.col("human_id_b")))
    out = {kind: 0 for kind in MERGE_KINDS}
    twins_in_truth = None
    if persons is not None and {"户编号", "与户主关系", "出生日期"} <= set(persons.columns):
        p = persons.select("human_id", pl.col("户编号").cast(pl.String), pl.col("与户主关系").cast(pl.String),
                           pl.col("出生日期").cast(pl.String))
        pairs = (pairs.join(p, on="human_id", how="left")
                 .join(p, left_on="human_id_b", right_on="human_id", how="left", suffix="_b"))
        same_home = pl.col("户编号").is_not_null() & (pl.col("户编号") == pl.col("户编号_b"))
        a_child, b_child = pl.col("与户主关系").is_in(CHILD), pl.col("与户主关系_b").is_in(CHILD)
        pairs = pairs.with_columns(kind=pl.when(same_home & a_child & b_child & (pl.col("出生日期") == pl.col("出生日期_b")))
                                   .then(pl.lit("twins"))
                                   .when(same_home & a_child & b_child).then(pl.lit("siblings"))
                                   .when(same_home & (a_child | b_child)).then(pl.lit("parent_child"))
                                   .otherwise(pl.lit("other")))
        children = p.filter(pl.col("户编号").is_not_null() & pl.col("与户主关系").is_in(CHILD))
        twins_in_truth = int(children.group_by("户编号", "出生日期").agg(pl.len().alias("n"))
                             .select((pl.col("n") * (pl.col("n") - 1) // 2).sum()).item() or 0)
    else:
        pairs = pairs.with_columns(kind=pl.lit("other"))
    for kind, n in pairs.group_by("kind").len().iter_rows():
        out[kind] = n
    return {"by_kind": out, "twin_pairs_in_truth": twins_in_truth}


def grid_scores(pred: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Per-grid 实有人口 / 登记人口 error and the over-1,500 sets, against truth ``grids.csv``."""
    p = pred.select(pl.col("网格编码").cast(pl.String), pl.col("实有人口").cast(pl.Int64).alias("p_real"),
                    pl.col("登记人口").cast(pl.Int64).alias("p_reg"))
    t = truth.select(pl.col("网格编码").cast(pl.String), pl.col("实有人口").cast(pl.Int64).alias("t_real"),
                     pl.col("登记人口").cast(pl.Int64).alias("t_reg"))
    j = t.join(p, on="网格编码", how="full", coalesce=True).fill_null(0)
    out = {}
    for name, a, b in (("实有人口", "p_real", "t_real"), ("登记人口", "p_reg", "t_reg")):
        total = int(j[b].sum())
        err = int((j[a] - j[b]).abs().sum())
        out[f"{name}_abs_error"] = err
        out[f"{name}_total"] = total
        out[f"{name}_error"] = err / total if total else 0.0
    for label, a, b in (("on_record", "p_reg", "t_reg"), ("verified", "p_real", "t_real")):
        got = set(j.filter(pl.col(a) > 1500)["网格编码"].to_list())
        want = set(j.filter(pl.col(b) > 1500)["网格编码"].to_list())
        out[f"over_1500_{label}_expected"] = sorted(want)
        out[f"over_1500_{label}_missing"] = sorted(want - got)
        out[f"over_1500_{label}_extra"] = sorted(got - want)
        out[f"over_1500_{label}_exact"] = got == want
    return out


def set_scores(pred: set, true: set) -> dict:
    tp = len(pred & true)
    precision = tp / len(pred) if pred else (1.0 if not true else 0.0)
    recall = tp / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"predicted": len(pred), "true": len(true), "correct": tp,
            "precision": precision, "recall": recall, "f1": f1}


def address_scores(truth: pl.DataFrame, matches: pl.DataFrame) -> dict:
    """How the store matched the addresses the demo wrote. ``truth``: addresses.csv (来源, 记录编号, 房屋编码,
    唯一); ``matches``: one row per matched-or-not source row (来源, 记录编号, match_status, house_code, rule).
    Scored over the rows the text had to decide (a row stating a known 房屋编码 is left out): of the
    addresses that name exactly one house, the share matched to it and the number matched to another;
    of those written to name none or several, the number matched all the same (guessed)."""
    t = truth.select(pl.col("来源").cast(pl.String), pl.col("记录编号").cast(pl.String),
                     pl.col("房屋编码").cast(pl.String).alias("truth"), (pl.col("唯一") == "是").alias("unique"))
    m = matches.select(pl.col("来源").cast(pl.String), pl.col("记录编号").cast(pl.String),
                       pl.col("match_status").cast(pl.String), pl.col("house_code").cast(pl.String).alias("house"),
                       pl.col("rule").cast(pl.String))
    j = t.join(m, on=["来源", "记录编号"]).filter(pl.col("rule") != "stated_house")
    one = j.filter(pl.col("unique"))
    right = one.filter((pl.col("match_status") == "matched") & (pl.col("house") == pl.col("truth"))).height
    wrong = one.filter((pl.col("match_status") == "matched") & (pl.col("house") != pl.col("truth"))).height
    guessed = j.filter(~pl.col("unique") & (pl.col("match_status") == "matched")).height
    return {"rows": j.height, "one_house": one.height, "matched_right": right, "matched_wrong": wrong,
            "left_for_stewards": one.height - right - wrong, "guessed": guessed,
            "not_one_house": j.height - one.height,
            "match_rate": right / one.height if one.height else 1.0,
            "by_template": {k: v for k, v in one.group_by("来源").agg(
                ((pl.col("match_status") == "matched") & (pl.col("house") == pl.col("truth"))).mean().alias("r"))
                .iter_rows()}}


def store_frames(conn) -> dict[str, pl.DataFrame]:
    """What :func:`check` scores, read from a store built for the as-of: the three contract extracts' marts and
    core.address_matches (来源, 记录编号 as addresses.csv names rows)."""
    frames = {name: conn.sql(f"SELECT * FROM marts.{name}").pl()
              for name in ("person_sources", "grid_population", "assistance_check")}
    frames["address_matches"] = conn.sql(
        "SELECT template AS 来源, record_no AS 记录编号, match_status, house_code, rule FROM core.address_matches").pl()
    return frames


def check(inbox: Path, truth: Path, *, person_sources: pl.DataFrame, grid_population: pl.DataFrame,
          assistance_check: pl.DataFrame, address_matches: pl.DataFrame | None = None,
          corpus: dict | None = None) -> dict:
    """Score the store's three contract extracts against the demo truth; see :func:`format_check`.
    ``address_matches`` (core.address_matches) adds the address match rate, wrong matches and guesses;
    ``corpus`` (pipelines.address.corpus.corpus_scores) the share of address parts read right."""
    inbox, truth = Path(inbox), Path(truth)
    records = pl.read_csv(truth / "records.csv", schema_overrides={"human_id": pl.String, "行号": pl.Int64})
    files = records.select("文件").unique().sort("文件")["文件"].to_list()
    present = [f for f in files if (inbox / f).exists()]
    batches = pl.DataFrame({"文件": present, "批次": [_sha256(inbox / f) for f in present]},
                           schema={"文件": pl.String, "批次": pl.String})
    truth_rows = records.join(batches, on="文件").select("来源", "批次", "行号", "human_id")
    ps = person_sources.select(pl.col("人员主键").cast(pl.String).alias("person_key"),
                               pl.col("来源").cast(pl.String), pl.col("批次").cast(pl.String),
                               pl.col("行号").cast(pl.Int64))
    joined = ps.join(truth_rows, on=["来源", "批次", "行号"], how="left")
    unmatched = joined.filter(pl.col("human_id").is_null()).height
    # A source row truly belonging to no human has human_id "" (a singleton); rows unknown to the truth are left out.
    link = linkage_scores(joined.filter(pl.col("human_id").is_not_null()))
    link["rows_scored"] = joined.height - unmatched
    link["rows_unknown_to_truth"] = unmatched
    persons_csv = truth / "persons.csv"
    persons = pl.read_csv(persons_csv, infer_schema=False) if persons_csv.exists() else None
    link["false_merges"] = false_merges(joined, persons)

    grids = grid_scores(grid_population, pl.read_csv(truth / "grids.csv", schema_overrides={"网格编码": pl.String}))

    want = set(pl.read_csv(truth / "assistance_check.csv", schema_overrides={"记录编号": pl.String})["记录编号"]
               .to_list())
    got = set(assistance_check["记录编号"].cast(pl.String).drop_nulls().to_list())
    assist = set_scores(got, want)

    addresses = None
    if address_matches is not None and (truth / "addresses.csv").exists():
        addresses = address_scores(
            pl.read_csv(truth / "addresses.csv", schema_overrides={"记录编号": pl.String, "房屋编码": pl.String}),
            address_matches)

    targets = {
        "linkage_precision": link["precision"] >= TARGETS["precision"],
        "linkage_recall": link["recall"] >= TARGETS["recall"],
        # Twins are two people, always: one merged pair is a child missing from every count.
        "twins_apart": link["false_merges"]["by_kind"]["twins"] == 0,
        "实有人口_error": grids["实有人口_error"] <= TARGETS["grid_error"],
        "登记人口_error": grids["登记人口_error"] <= TARGETS["grid_error"],
        "over_1500_on_record": grids["over_1500_on_record_exact"],
        "over_1500_verified": grids["over_1500_verified_exact"],
        "assistance_f1": assist["f1"] >= TARGETS["f1"],
    }
    if addresses is not None:
        targets["address_match_rate"] = addresses["match_rate"] >= TARGETS["address_match"]
        targets["address_wrong"] = addresses["matched_wrong"] == 0
        targets["address_guessed"] = addresses["guessed"] == 0
    if corpus is not None:
        targets["corpus_parts"] = corpus["passed"]
    return {"linkage": link, "grids": grids, "assistance": assist, "addresses": addresses, "corpus": corpus,
            "targets": targets, "passed": all(targets.values())}


def format_check(result: dict) -> str:
    """A short table, one line per target, PASS/FAIL."""
    link, grids, assist, t = result["linkage"], result["grids"], result["assistance"], result["targets"]

    def mark(ok):
        return "PASS" if ok else "FAIL"

    fm = link["false_merges"]
    merged = " ".join(f"{MERGE_KINDS[k]} {n}" for k, n in fm["by_kind"].items())
    if fm["twin_pairs_in_truth"] is not None:
        merged += f" (真值双胞胎 {fm['twin_pairs_in_truth']} 对)"

    def sets(label):
        miss, extra = grids[f"over_1500_{label}_missing"], grids[f"over_1500_{label}_extra"]
        return f"应为 {len(grids[f'over_1500_{label}_expected'])} 个; 漏 {miss or '无'}; 多 {extra or '无'}"

    lines = [
        f"{'指标 target':<34}{'结果 value':<44}{'要求 goal':<12}判定",
        f"{'人员合并精确率 linkage precision':<34}{link['precision']:<44.5f}{'>= 0.995':<12}{mark(t['linkage_precision'])}",
        f"{'人员合并召回率 linkage recall':<34}{link['recall']:<44.5f}{'>= 0.99':<12}{mark(t['linkage_recall'])}",
        f"{'错误合并 false merges (人对 pairs)':<34}{merged:<44}{'双胞胎 = 0':<12}{mark(t['twins_apart'])}",
        f"{'实有人口误差 verified pop. error':<34}{grids['实有人口_error']:<44.2%}{'<= 1%':<12}{mark(t['实有人口_error'])}",
        f"{'登记人口误差 registered pop. error':<34}{grids['登记人口_error']:<44.2%}{'<= 1%':<12}{mark(t['登记人口_error'])}",
        f"{'登记超1500网格 over 1,500 on record':<34}{sets('on_record'):<44}{'一致 exact':<12}{mark(t['over_1500_on_record'])}",
        f"{'实有超1500网格 over 1,500 verified':<34}{sets('verified'):<44}{'一致 exact':<12}{mark(t['over_1500_verified'])}",
        f"{'救助核查 F1 assistance check F1':<34}"
        f"{assist['f1']:.4f} (P {assist['precision']:.4f}, R {assist['recall']:.4f}){'':<18}"
        f"{'>= 0.98':<12}{mark(t['assistance_f1'])}",
    ]
    a = result.get("addresses")
    if a is not None:
        rate = f"{a['match_rate']:.2%} ({a['matched_right']}/{a['one_house']}; 待处理 {a['left_for_stewards']})"
        guessed = f"{a['guessed']} (共 {a['not_one_house']} 条写成无房屋或多处)"
        lines += [
            f"{'地址匹配率 address match rate':<34}{rate:<44}{'>= 99%':<12}{mark(t['address_match_rate'])}",
            f"{'地址错配 matched to a wrong house':<34}{a['matched_wrong']:<44}{'= 0':<12}{mark(t['address_wrong'])}",
            f"{'地址猜测 ambiguous/none matched':<34}{guessed:<44}{'= 0':<12}{mark(t['address_guessed'])}",
        ]
    if result.get("corpus") is not None:
        from pipelines.address.corpus import format_corpus

        lines += format_corpus(result["corpus"])
    lines.append(f"总体 overall: {'PASS' if result['passed'] else 'FAIL'}  "
                 f"(评估行数 rows scored {link['rows_scored']}, 真值外行 unknown {link['rows_unknown_to_truth']})")
    return "\n".join(lines)
