"""What real exports do to IDs, names and dates: typos, legacy IDs, full-width digits, homophones.

Rates are per row and small (a few per cent), like the data a street office really gets.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.demo import vocab as V

# template -> (missing, typo, transpose, legacy15, full_width, spaced, lower_x, homophone, name_space)
RATES = {
    "residents": (.008, .004, .002, .003, .002, .003, .3, .006, .004),
    "visits": (0, .003, .001, .001, .002, .002, .3, .006, .004),
    "hukou": (0, .002, .001, .04, 0, .001, .2, .002, .001),
    "floating": (0, .004, .002, .002, .003, .004, .3, .005, .004),
    "assistance": (0, .003, .001, .002, .002, .005, .3, .004, .003),
    "deaths": (0, .003, .001, .002, 0, .002, .3, .003, .002),
    "disability": (0, .003, .001, .002, 0, .002, .3, .003, .002),
}


def apply(template: str, df: pl.DataFrame, body_of_human: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    missing, typo, trans, legacy, fw, spaced, lower, homo, nspace = RATES[template]
    n = len(df)
    hi = df["_hi"].to_numpy()
    body = np.where(hi >= 0, body_of_human[np.maximum(hi, 0)], 10**16)
    ids = df["公民身份号码"]
    born = body // 1000 % 10**8 // 10**4
    r = rng.random(n)
    edges = np.cumsum([missing, typo, trans, legacy, fw, spaced])
    kind = np.searchsorted(edges, r, side="right")   # 6 = untouched
    kind = np.where((kind == 3) & (born >= 2000), 6, kind)

    p = (6 + np.floor(rng.random(n) * 11)).astype(np.int64)          # a digit of the birth date or sequence
    pw = 10 ** (16 - p)
    d = body // pw % 10
    nd = (d + 1 + np.floor(rng.random(n) * 9).astype(np.int64)) % 10
    typo_body = body + (nd - d) * pw
    q = np.minimum(p, 15)
    d1, d2 = body // 10 ** (16 - q) % 10, body // 10 ** (15 - q) % 10
    trans_body = np.where(d1 != d2, body + (d2 - d1) * 10 ** (16 - q) + (d1 - d2) * 10 ** (15 - q), typo_body)

    lx = rng.random(n) < lower
    rn = rng.random(n)
    # Only the few messy rows are rewritten; string work over every row would dominate at a million persons.
    idx = np.flatnonzero(((kind < 6) | lx) & ids.is_not_null().to_numpy())
    f = pl.DataFrame({"id": ids.gather(idx), "k": kind[idx], "tb": typo_body[idx], "xb": trans_body[idx],
                      "lx": lx[idx]})
    check = pl.col("id").str.slice(17, 1)
    new_id = (
        pl.when(pl.col("k") == 0).then(None)
        .when(pl.col("k") == 1).then(pl.col("tb").cast(pl.String).str.zfill(17) + check)
        .when(pl.col("k") == 2).then(pl.col("xb").cast(pl.String).str.zfill(17) + check)
        .when(pl.col("k") == 3).then(pl.col("id").str.slice(0, 6) + pl.col("id").str.slice(8, 9))
        .when(pl.col("k") == 4).then(pl.col("id").str.replace_many(
            [str(i) for i in range(10)] + ["X"], [chr(0xFF10 + i) for i in range(10)] + ["Ｘ"]))
        .when(pl.col("k") == 5).then(pl.col("id").str.slice(0, 6) + " " + pl.col("id").str.slice(6, 8) + " "
                                     + pl.col("id").str.slice(14))
        .otherwise(pl.col("id"))
    )
    new_id = pl.when(pl.col("lx")).then(new_id.str.replace("X$", "x")).otherwise(new_id)
    ids = ids.clone().scatter(idx, f.select(new_id.alias("id"))["id"])

    nidx = np.flatnonzero((rn < homo + nspace) & (hi >= 0))
    g = pl.DataFrame({"nm": df["姓名"].gather(nidx), "r": rn[nidx]})
    homophone = (pl.col("nm").str.slice(0, pl.col("nm").str.len_chars() - 1)
                 + pl.col("nm").str.slice(-1).replace(V.HOMOPHONES))
    space = pl.col("nm").str.slice(0, 1) + pl.when(pl.col("r") < homo + nspace / 2).then(pl.lit(" ")).otherwise(
        pl.lit("\u3000")) + pl.col("nm").str.slice(1)
    name = pl.when(pl.col("r") < homo).then(homophone).otherwise(space)
    names = df["姓名"].clone().scatter(nidx, g.select(name.alias("nm"))["nm"])
    return df.with_columns(公民身份号码=ids, _id_mess=pl.Series(kind), 姓名=names)


def children(df: pl.DataFrame, humans: pl.DataFrame, rng: np.random.Generator, *, missing: float = .2,
             parent_birth: float = .05) -> pl.DataFrame:
    """A child's row often comes without an ID number (the child's card is at home, the clerk fills the
    rest in): ``missing`` of the rows about humans under 16 lose it; of those, ``parent_birth`` carry the
    birth date of the parent written above them in the form (the identity model's hardest case: a name
    that differs at the same house with the same birth date). ``rng``: the families' own stream."""
    n = len(df)
    hi = df["_hi"].to_numpy()
    known = hi >= 0
    age = np.where(known, humans["_age"].to_numpy()[np.maximum(hi, 0)], 99)
    parent = np.where(known, humans["_parent"].to_numpy()[np.maximum(hi, 0)], -1)
    drop = (age < 16) & (rng.random(n) < missing)
    copied = drop & (parent >= 0) & (rng.random(n) < parent_birth)
    births = humans["出生日期"].gather(np.maximum(parent, 0))
    return df.with_columns(
        公民身份号码=pl.when(pl.Series(drop)).then(None).otherwise(pl.col("公民身份号码")),
        出生日期=pl.when(pl.Series(copied)).then(births).otherwise(pl.col("出生日期")),
    )
