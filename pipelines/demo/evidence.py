"""Source rows about the humans of the demo world, then the mess real exports carry.

Every kind of human gets evidence that supports its truth under the contract's
rules with W = 365 days: fresh dates lie within 340 days of D, stale ones more
than 400 days before it, so no row sits on the boundary.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.demo import vocab as V
from pipelines.demo.followup import not_yet_visited
from pipelines.demo.world import (CATEGORIES, DEAD, FLOATING, HUKOU, HUKOU_ONLY, LEFT, RESIDENT, UNSETTLED, id_strings,
                                  pick)

FRESH = (5, 340)      # days before D
STALE_MIN = 400


def _cn(i: int) -> str:
    """1..99 as Chinese numerals (三, 十二, 二十一)."""
    tens, ones = divmod(i, 10)
    head = "" if tens == 0 else "十" if tens == 1 else V.CN_DIGITS[tens] + "十"
    return head + ("" if ones == 0 else V.CN_DIGITS[ones])


# Lookup tables: gathering is far cheaper than string replacement over millions of rows.
CN_NUMBERS = pl.Series([_cn(i) for i in range(100)])
FULL_WIDTH = pl.Series(["".join(chr(0xFF10 + int(c)) for c in str(i)) for i in range(10000)])
DIGIT_NUMERALS = pl.Series(["".join(V.CN_DIGITS[int(c)] for c in str(i)) for i in range(10000)])   # 501 → 五零一


ADDRESS_FORMS = 20
# Forms that name the house by its compound alone (no road, no community): they name it only where the
# compound's name does (world.compound_clarity); elsewhere the clerk writes the road too (form 1).
COMPOUND_ONLY = (2, 3, 5, 6, 7, 8, 9, 14, 16, 19)
NOISE = ("电联", "(电联)", " 门口丰巢快递柜", " 13812345678")


def address_text(houses: pl.DataFrame, house: np.ndarray, form: np.ndarray, issue: np.ndarray | None = None,
                 district: str = V.DISTRICT, street: str = V.STREET, hint: str = "station"):
    """The free-text address a clerk would type for ``house`` in one of the forms police and civil-affairs
    addresses really take: the 标准地址, road and number, compound alone, community and compound, reversed
    orders, Chinese and full-width numerals, a number without 号, trailing noise, a phase spelled otherwise.

    ``issue``: 1 = a building that does not exist (matches no house), 2 = compound and room only (ambiguous).
    ``hint``: what the row carries besides its text — "station" (派出所: floating, hukou) or "community"
    (社区名称: assistance); a compound-only form is used only where it names the house with that hint.
    A house with no compound is named by its road and number wherever a form would name the compound.
    """
    h = houses.select("_road", "_road_no", "小区(院落)", "_b", "_u", "_fl", "_rm", "标准地址", "_lane",
                      "_comm_name", "_ok_comm", "_ok_station")[house]
    h = h.with_columns(_cb=CN_NUMBERS.gather(np.minimum(h["_b"].to_numpy(), 99)),
                       _cu=CN_NUMBERS.gather(np.minimum(h["_u"].to_numpy(), 99)),
                       _fb=FULL_WIDTH.gather(h["_b"].to_numpy()), _fu=FULL_WIDTH.gather(h["_u"].to_numpy()),
                       _frm=FULL_WIDTH.gather(h["_rm"].to_numpy()),
                       _drm=DIGIT_NUMERALS.gather(h["_rm"].to_numpy()),
                       _noise=pl.Series(list(NOISE)).gather(np.asarray(house) % len(NOISE)))
    b, u, fl, rm = (pl.col(c).cast(pl.String) for c in ("_b", "_u", "_fl", "_rm"))
    no = pl.col("_road_no").cast(pl.String)
    road = pl.col("_road") + no + pl.when(pl.col("_lane")).then(pl.lit("弄")).otherwise(pl.lit("号"))
    comp = pl.col("小区(院落)").fill_null("")
    compx = pl.when(comp == "").then(road).otherwise(comp)       # a block without a compound: its road and number
    phase = compx.str.replace("一期$", "1期").str.replace("二期$", "(二期)")
    tail = b + "栋" + u + "单元" + rm
    forms = [
        pl.col("标准地址"),
        road + comp + b + "栋" + u + "单元" + rm + "室",
        compx + tail,
        compx + b + "-" + u + "-" + rm,
        road + b + "-" + u + "-" + rm,
        compx + b + "栋" + u + "-" + rm,
        compx + pl.col("_cb") + "栋" + pl.col("_cu") + "单元" + rm + "室",
        compx + b + "号楼" + u + "单元" + fl + "楼" + rm,
        compx + b + "幢" + u + "单元" + fl + "层" + rm + "室",
        compx + pl.col("_fb") + "栋" + pl.col("_fu") + "单元" + pl.col("_frm"),
        road + " " + comp + " " + b + "栋" + u + "单元 " + rm + "室",
        pl.lit(V.CITY + district) + road + comp + "第" + b + "栋" + u + "单元" + rm,
        pl.col("_comm_name") + compx + tail,                                       # community and compound
        comp + pl.col("_road") + no + "号" + b + "-" + u + "-" + rm,                # compound before road
        b + "栋" + u + "单元" + rm + "室 " + compx,                                  # building first
        pl.col("_road") + no + " " + comp + b + "栋" + u + "单元" + rm,              # number without 号
        compx + tail + pl.col("_noise"),                                           # what couriers add
        road + comp + b + "栋" + u + "单元" + pl.col("_drm"),                        # 五零一
        pl.lit(street) + pl.col("_comm_name") + road + comp + b + "-" + u + "-" + rm,   # police entry
        phase + tail,                                                              # 1期, (二期)
    ]
    assert len(forms) == ADDRESS_FORMS
    issue = np.zeros(len(house), np.int64) if issue is None else np.asarray(issue)
    forms.append(compx + (pl.col("_b") + 40).cast(pl.String) + "栋1单元" + rm + "室")   # no such building
    forms.append(compx + rm + "室")                                                 # no building: ambiguous
    form = np.asarray(form).copy()
    ok = h["_ok_comm" if hint == "community" else "_ok_station"].to_numpy()
    form[np.isin(form, COMPOUND_ONLY) & ~ok] = 1
    form[(form == 12) & ~h["_ok_comm"].to_numpy()] = 1
    # a lane's buildings are not written 3-2-501 by anyone who lives there
    form[h["_lane"].to_numpy() & np.isin(form, (3, 4, 5, 13, 18))] = 1
    form = np.where(issue > 0, ADDRESS_FORMS - 1 + issue, form)
    # Each form is built only on its own rows: a when-chain would build all of them for every row.
    out = pl.Series("a", [None] * len(house), dtype=pl.String)
    for i, expr in enumerate(forms):
        sel = np.flatnonzero(form == i)
        if len(sel):
            out = out.scatter(sel, h[sel].select(expr.alias("a"))["a"])
    return out


class Evidence:
    def __init__(self, gen):
        self.gen = gen
        self.rng = gen.rng
        self.D = gen.D
        hm = gen.humans
        self.hm = {c: hm[c].to_numpy() for c in ("_kind", "_sub", "_cat", "_house", "_household", "_rel",
                                                   "_birth", "_body", "_born", "_alone_old", "_age", "_death")}
        self.hm.update({c: hm[c] for c in ("姓名", "性别", "民族", "公民身份号码", "户籍地", "与户主关系", "联系电话")})
        self.houses = gen.houses
        self.h_grid = gen.h["grid"]
        self.h_comm = gen.g["comm"][gen.h["grid"]]
        self.worker = gen.g["worker"]
        self.st = gen.st

    def u(self, lo, hi, n=None):
        return self.gen.u(lo, hi, n)

    def p(self, prob, n):
        return self.gen.p(prob, n)

    def person(self, who: np.ndarray) -> dict:
        m = self.hm
        return {"_hi": who, "姓名": m["姓名"].gather(who), "公民身份号码": m["公民身份号码"].gather(who),
                "性别": m["性别"].gather(who), "出生日期": m["_birth"][who], "民族": m["民族"].gather(who)}

    def frame(self, who, house, **cols) -> pl.DataFrame:
        d = self.person(who)
        d["_house"] = house
        d.update(cols)
        return pl.DataFrame(d)

    # ------------------------------------------------------------------
    def build(self) -> dict[str, pl.DataFrame]:
        m, D, n = self.hm, self.D, len(self.hm["_kind"])
        kind, sub, cat, house = m["_kind"], m["_sub"], m["_cat"], m["_house"]
        R = np.flatnonzero(kind == RESIDENT)
        M = np.flatnonzero(kind == LEFT)
        X = np.flatnonzero(kind == DEAD)
        K = np.flatnonzero(kind == HUKOU_ONLY)
        T = m["_death"]
        L = np.full(n, -1, np.int64)
        L[M] = D - self.u(STALE_MIN, 1400, len(M))

        # Some residents get a second fresh presence, so a row a loader may refuse never decides their status.
        fresh = self.p(.93, len(R))
        redundant = R[self.p(.004, len(R)) & (cat[R] == HUKOU)]
        # The person whose ID Excel will mangle in the small residents workbook (micro-grid 0).
        cand = R[fresh & (cat[R] == HUKOU) & (self.gen.h["mg"][house[R]] == 0)
                 & ~m["公民身份号码"].gather(R).str.ends_with("X").fill_null(True).to_numpy()]
        self.p0 = int(cand[0]) if len(cand) else -1
        redundant = np.setdiff1d(np.append(redundant, cand[:1]), [])
        main_date = np.where(fresh, D - self.u(*FRESH, len(R)), D - self.u(STALE_MIN, 900, len(R)))

        # ---------------- residents
        parts = [self.frame(R, house[R], 采集日期=main_date, _main=np.ones(len(R), bool))]
        hist = self.p(.35, len(R))
        hist_date = main_date[hist] - self.u(365, 1100, hist.sum())
        parts.append(self.frame(R[hist], house[R][hist], 采集日期=hist_date, _main=np.zeros(hist.sum(), bool)))
        moved = self.p(.025, len(R))
        moved_date = np.minimum(main_date[moved], np.where(hist, main_date - 365, main_date)[moved]) - self.u(200, 700, moved.sum())
        other = (house[R][moved] + self.u(1, self.gen.H - 1, moved.sum())) % self.gen.H
        parts.append(self.frame(R[moved], other, 采集日期=moved_date, _main=np.zeros(moved.sum(), bool)))
        parts.append(self.frame(M, house[M], 采集日期=L[M], _main=np.ones(len(M), bool)))
        mo = self.p(.4, len(M))
        parts.append(self.frame(M[mo], house[M][mo], 采集日期=L[M][mo] - self.u(200, 800, mo.sum()),
                                _main=np.zeros(mo.sum(), bool)))
        xd = T[X] - self.u(30, 500, len(X))
        parts.append(self.frame(X, house[X], 采集日期=xd, _main=np.ones(len(X), bool)))
        residents = pl.concat(parts, how="vertical_relaxed")
        hi = residents["_hi"].to_numpy()
        tags = self.tags()
        rh = residents["_house"].to_numpy()
        residents = residents.with_columns(
            联系电话=m["联系电话"].gather(hi),
            房屋编码=self.gen.house_code.gather(rh),
            与户主关系=m["与户主关系"].gather(hi),
            人员类别=pick(CATEGORIES, cat[hi]),
            人员标签=tags.gather(hi),
            采集人=self.worker.gather(self.h_grid[rh]),
        )

        # ---------------- visits
        vparts = []
        # stale residents not yet visited this year: 待核实, though they live here (followup.py)
        late = ~fresh & not_yet_visited(m["_body"][R])
        need = np.concatenate([R[~fresh & ~late], redundant])
        vparts.append(self.frame(need, house[need], 走访日期=D - self.u(*FRESH, len(need)), 走访结果="在住"))
        extra = R[self.p(.3, len(R)) & ~late]
        vparts.append(self.frame(extra, house[extra], 走访日期=D - self.u(*FRESH, len(extra)), 走访结果="在住"))
        m1 = M[sub[M] == 1]
        vd = L[m1] + 30 + (self.rng.random(len(m1)) * (D - L[m1] - 40)).astype(np.int64)
        vparts.append(self.frame(m1, house[m1], 走访日期=vd,
                                 走访结果=pick(("查无此人", "已搬离"), self.p(.85, len(m1)).astype(np.int64))))
        has_death_row = self.p(.95, len(X))
        xv = self.p(.10, len(X)) | (~has_death_row & (cat[X] != HUKOU))
        xvd = np.minimum(T[X][xv] + self.u(5, 100, xv.sum()), D - 1)
        vparts.append(self.frame(X[xv], house[X][xv], 走访日期=xvd, 走访结果="已死亡"))
        visits = pl.concat(vparts, how="vertical_relaxed")
        # Vacant houses: the visit names the owner, who is no human of this world.
        vac = np.flatnonzero(~self.gen.h["occupied"])
        vac = vac[self.p(.03, len(vac))]
        owners = self.gen.names(len(vac), self.p(.5, len(vac)))
        visits = pl.concat([visits, pl.DataFrame({
            "_hi": np.full(len(vac), -1), "姓名": owners, "公民身份号码": pl.Series([None] * len(vac), dtype=pl.String),
            "性别": "", "出生日期": np.zeros(len(vac), np.int64), "民族": "", "_house": vac,
            "走访日期": D - self.u(*FRESH, len(vac)), "走访结果": "空置"})], how="vertical_relaxed")
        vh = visits["_house"].to_numpy()
        visits = visits.with_columns(
            房屋编码=self.gen.house_code.gather(vh),
            网格员=self.worker.gather(self.h_grid[vh]),
            备注=pick(V.VISIT_REMARKS, self.u(0, len(V.VISIT_REMARKS) - 1, len(visits))),
            公民身份号码=pl.when(pl.Series(self.p(.5, len(visits)))).then(pl.col("公民身份号码")),
        )

        # ---------------- hukou
        hk = np.flatnonzero(cat == HUKOU)
        hk_kind = kind[hk]
        status = np.zeros(len(hk), np.int64)                      # index into HUKOU_STATUS
        change = np.where(self.p(.5, len(hk)), D - self.u(STALE_MIN, 9000, len(hk)), -1)
        reason = np.where(change >= 0, np.where(self.p(.5, len(hk)), 1, 2), 0)  # index into REASONS
        out = (hk_kind == LEFT) & (sub[hk] == 3)
        change[out] = L[hk][out] + self.u(20, 300, out.sum())
        status[out] = np.where(self.p(.9, out.sum()), 1, 3)
        reason[out] = 3
        x_pos = np.searchsorted(X, hk[hk_kind == DEAD])
        dies = np.zeros(len(hk), bool)
        dies[hk_kind == DEAD] = self.p(.6, len(x_pos)) | ~has_death_row[x_pos]
        change[dies] = np.minimum(T[hk][dies] + self.u(5, 60, dies.sum()), D - 1)
        status[dies] = 2
        reason[dies] = 4
        hh_no = np.where(m["_household"][hk] >= 0, m["_household"][hk], 900_000_000 + hk)
        hukou = self.frame(hk, house[hk], 户籍状态=pick(("正常", "迁出", "死亡", "注销"), status), 变动日期=change,
                           变动原因=pick(("", "出生", "迁入", "迁往外地", "死亡注销"), reason),
                           户号=pl.Series(hh_no).cast(pl.String).str.zfill(9).to_numpy(),
                           与户主关系=m["与户主关系"].gather(hk),
                           户籍地址=address_text(self.houses, house[hk], self.u(0, ADDRESS_FORMS - 1, len(hk)),
                                             district=self.st.district, street=self.st.name),
                           派出所=pick(self.st.police_stations, (self.h_comm[house[hk]] >= 3).astype(int)))

        # ---------------- floating
        fr = R[(cat[R] == FLOATING) & self.p(.88, len(R))]
        reg = D - self.u(30, 1500, len(fr))
        permit = self.p(.55, len(fr))
        valid = reg + 365 * np.ceil((D - reg) / 365).astype(np.int64) + 365 * self.u(0, 1, len(fr))
        expired = permit & self.p(.3, len(fr)) & (reg + 365 < D)
        valid = np.where(expired, reg + 365, valid)
        # A registration whose address cannot be placed never holds the newest presence.
        issue = np.where(~permit & self.p(.012, len(fr)), self.u(1, 2, len(fr)), 0)
        reg = np.where(issue > 0, np.minimum(reg, D - STALE_MIN - self.u(0, 400, len(fr))), reg)
        fparts = [self.frame(fr, np.where(issue > 0, -1, house[fr]), 登记日期=reg,
                             居住证有效期至=np.where(permit, valid, -1), 注销日期=np.full(len(fr), -1),
                             注销原因="", _issue=issue, _addr_house=house[fr])]
        fm = M[(cat[M] == FLOATING) & (self.p(.95, len(M)) | (sub[M] == 3))]
        mreg = L[fm] - self.u(10, 600, len(fm))
        mpermit = self.p(.4, len(fm))
        m3 = sub[fm] == 3
        fparts.append(self.frame(fm, house[fm], 登记日期=mreg, 居住证有效期至=np.where(mpermit, mreg + 365, -1),
                                 注销日期=np.where(m3, L[fm] + self.u(20, 300, len(fm)), -1),
                                 注销原因=pick(("", "离开本地", "其他"), np.where(m3, np.where(self.p(.9, len(fm)), 1, 2), 0)),
                                 _issue=np.zeros(len(fm), np.int64), _addr_house=house[fm]))
        fx = X[cat[X] == FLOATING]
        xdr = self.p(.4, len(fx))
        fparts.append(self.frame(fx, house[fx], 登记日期=T[fx] - self.u(100, 900, len(fx)),
                                 居住证有效期至=np.full(len(fx), -1),
                                 注销日期=np.where(xdr, np.minimum(T[fx] + self.u(5, 60, len(fx)), D - 1), -1),
                                 注销原因=pick(("", "死亡"), xdr.astype(np.int64)), _issue=np.zeros(len(fx), np.int64),
                                 _addr_house=house[fx]))
        floating = pl.concat(fparts, how="vertical_relaxed")
        fh = floating["_addr_house"].to_numpy()
        fi = floating["_hi"].to_numpy()
        nf = len(floating)
        has_permit = floating["居住证有效期至"].to_numpy() >= 0
        floating = floating.with_columns(
            户籍地=m["户籍地"].gather(fi),
            现居住地址=address_text(self.houses, fh, self.u(0, ADDRESS_FORMS - 1, nf), floating["_issue"].to_numpy(),
                               district=self.st.district, street=self.st.name),
            房屋编码=pl.when(pl.Series(self.p(.75, nf) & (floating["_issue"].to_numpy() == 0)))
            .then(self.gen.house_code.gather(fh)),
            居住事由=pick(V.STAY_REASONS, self.u(0, 4, nf)),
            居住证号码=pl.when(pl.Series(has_permit)).then(
                pl.lit("5101") + pl.Series(self.u(0, 10**9 - 1, nf)).cast(pl.String).str.zfill(9)),
            派出所=pick(self.st.police_stations, (self.h_comm[fh] >= 3).astype(int)),
        )

        # ---------------- assistance
        age = m["_age"]
        ar = R[self.p(np.where(age[R] >= 60, .04, .005), len(R))]
        am = M[self.p(.03, len(M))]
        ax = X[self.p(.35, len(X))]
        ak = K[self.p(.05, len(K))]
        who = np.concatenate([ar, am, ax, ak])
        start = np.concatenate([D - self.u(60, 2500, len(ar)), L[am] - self.u(100, 1000, len(am)),
                                T[ax] - self.u(200, 2000, len(ax)), D - self.u(100, 2000, len(ak))])
        end = np.full(len(who), -1)
        ended_x = np.zeros(len(who), bool)
        ended_x[len(ar) + len(am):len(ar) + len(am) + len(ax)] = self.p(.1, len(ax)) & (T[ax] < D - 70)
        end[ended_x] = T[who][ended_x] + self.u(20, 60, ended_x.sum())
        old = ar[self.p(.015 / .04 * 0.1, len(ar))]  # a few earlier, finished spells of the same residents
        who = np.concatenate([who, old])
        ostart = D - self.u(2600, 4000, len(old))
        start = np.concatenate([start, ostart])
        end = np.concatenate([end, ostart + self.u(180, 700, len(old))])
        na = len(who)
        kinds_a = pick(V.ASSISTANCE_TYPES, self.rng.choice(4, na, p=[.6, .2, .15, .05]))
        covered = self.u(1, 4, na)
        assistance = self.frame(
            who, house[who], 救助类别=kinds_a, 保障人数=covered,
            月救助金额=pl.Series(covered * self.u(400, 900, na) + self.u(0, 99, na) / 100).round(2).cast(pl.String)
            .to_numpy(),
            起始日期=start, 终止日期=end,
            居住地址=address_text(self.houses, house[who], self.u(0, ADDRESS_FORMS - 1, na),
                              (a_issue := np.where(self.p(.01, na), 1, 0)), district=self.st.district,
                              street=self.st.name, hint="community"),
            社区名称=pick(self.st.communities, self.h_comm[house[who]]),
            _issue=a_issue,
        )

        # ---------------- deaths
        dx = X[has_death_row]
        crem = T[dx] + self.u(1, 7, len(dx))
        deaths = self.frame(dx, house[dx], 死亡日期=T[dx], 火化日期=np.where(crem <= D, crem, -1),
                            登记机关=pick(("成都市殡仪馆", self.st.civil_office), self.p(.7, len(dx)).astype(np.int64)))

        # ---------------- disability
        dis = np.concatenate([R[self.p(.02, len(R))], X[self.p(.05, len(X))], M[self.p(.01, len(M))],
                              K[self.p(.01, len(K))]])
        grade = self.u(1, 4, len(dis))
        dtype_i = self.u(0, len(V.DISABILITY_TYPES) - 1, len(dis))
        disability = self.frame(
            dis, house[dis], 残疾类别=pick(V.DISABILITY_TYPES, dtype_i) + "残疾",
            残疾等级=pick(["一级", "二级", "三级", "四级"], grade - 1),
            残疾证号=(id_strings(m["_body"][dis]) + pl.Series(dtype_i + 1).cast(pl.String)
                  + pl.Series(grade).cast(pl.String)),
            发证日期=D - self.u(STALE_MIN, 5000, len(dis)))

        frames = dict(residents=residents, visits=visits, hukou=hukou, floating=floating,
                      assistance=assistance, deaths=deaths, disability=disability)
        frames = {k: self.dates(v) for k, v in frames.items()}
        self.redundant = redundant
        return frames

    def unregistered_dropped(self, template: str, df: pl.DataFrame) -> pl.DataFrame:
        """A baby without hukou (未落户) has no ID number for an allowance or a disability card to carry: its
        rows of those templates go. Called after the mess is drawn, so every other row stays as it was."""
        if template not in ("assistance", "disability"):
            return df
        registered = pl.Series(self.hm["_cat"] != UNSETTLED)
        return df.filter(registered.gather(df["_hi"].clip(0)) | (pl.col("_hi") < 0))

    def tags(self) -> np.ndarray:
        m, n = self.hm, len(self.hm["_kind"])
        age, male = m["_age"], (m["性别"] == "男").to_numpy()
        t = pl.DataFrame({
            "党员": self.p(.08, n) & (age >= 25), "居民骨干": self.p(.02, n) & (age >= 30),
            "楼栋长": self.p(.01, n) & (age >= 35), "独居老人": m["_alone_old"],
            "志愿者": self.p(.03, n) & (age >= 16), "退役军人": self.p(.03, n) & male & (age >= 30),
        })
        return t.select(pl.concat_str([pl.when(pl.col(c)).then(pl.lit(c + ";")).otherwise(pl.lit(""))
                                       for c in t.columns]).str.strip_suffix(";").alias("t"))["t"]

    @staticmethod
    def dates(df: pl.DataFrame) -> pl.DataFrame:
        cols = [c for c in ("出生日期", "采集日期", "走访日期", "变动日期", "登记日期", "居住证有效期至", "注销日期",
                            "起始日期", "终止日期", "死亡日期", "火化日期", "发证日期") if c in df.columns]
        # -1 marks an empty date; birth dates before 1970 are negative day numbers and always present.
        df = df.with_columns([(pl.col(c) if c == "出生日期" else pl.when(pl.col(c) >= 0).then(pl.col(c)))
                              .cast(pl.Int32).cast(pl.Date).alias(c) for c in cols])
        if "_hi" in df.columns:
            df = df.with_columns(pl.when(pl.col("_hi") < 0).then(None).otherwise(pl.col("出生日期")).alias("出生日期"))
        return df
