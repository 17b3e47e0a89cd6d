"""The demo street: grids, houses, humans and every source row about them.

Everything is drawn with one seeded numpy generator and built column-wise with
numpy/polars, so a million persons take seconds and a seed always gives the
same world. Loops run over grids or kinds of humans, never over persons.

Each source frame carries its Chinese template fields plus helper columns
starting with ``_`` (``_hid`` the human, ``_house`` the house the row is really
about, ``_reject`` rows a loader may refuse); the writer drops them.
"""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import polars as pl

from pipelines.demo import vocab as V
from pipelines.demo.streets import Street, street as street_of

# Kinds of grid; the Jianye kind is on record over 1,500 only through people who left.
NORMAL, JIANYE, BIG, SPECIAL = 0, 1, 2, 3
# Kinds of human.
RESIDENT, LEFT, DEAD, HUKOU_ONLY = 0, 1, 2, 3
CATEGORIES = ("户籍人口", "流动人口", "境外人员", "未落户人员")
HUKOU, FLOATING, FOREIGN, UNSETTLED = 0, 1, 2, 3

SIZE_P = {
    NORMAL: (.22, .30, .24, .14, .07, .03),
    JIANYE: (.16, .28, .26, .17, .09, .04),
    BIG: (.05, .15, .30, .26, .15, .09),
    SPECIAL: (.6, .4, 0, 0, 0, 0),
}
EPOCH = dt.date(1970, 1, 1)


def day(d: dt.date) -> int:
    return (d - EPOCH).days


def pick(values, idx) -> pl.Series:
    """values[idx] as a polars string Series (numpy unicode arrays are slow to hand to polars)."""
    return pl.Series(list(values), dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


def to_date(days) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int32)).cast(pl.Date)


class _Gen:
    def __init__(self, persons: int, seed, as_of: dt.date, street: Street | None = None,
                 taken: np.ndarray | None = None):
        """``seed``: an int or a list of ints; ``taken``: sorted ID bodies other streets already hold."""
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.persons = persons
        self.as_of = as_of
        self.D = day(as_of)
        self.st = street if street is not None else street_of(0)
        self.taken = taken
        # Families (children's names, twins) draw from a stream of their own: adding them left every
        # other draw of the street, and so its houses, dates and rows, as it was.
        self.family_rng = np.random.default_rng(self.rng.bit_generator.seed_seq.spawn(1)[0])

    # ------------------------------------------------------------------ helpers
    def u(self, lo, hi, n=None):
        """Uniform integers in [lo, hi] (inclusive); lo/hi may be arrays."""
        lo = np.asarray(lo)
        hi = np.asarray(hi)
        size = n if n is not None else np.broadcast(lo, hi).shape
        return (lo + np.floor(self.rng.random(size) * (hi - lo + 1))).astype(np.int64)

    def p(self, prob, n):
        return self.rng.random(n) < prob

    # ------------------------------------------------------------------ grids and houses
    def grids(self):
        rng = self.rng
        G = max(6, round(self.persons / 1320))
        n_big = max(2, round(0.10 * G))
        n_jy = max(3, round(0.18 * G))
        kinds = np.array([NORMAL] * (G - n_big - n_jy) + [JIANYE] * n_jy + [BIG] * n_big)
        kinds = rng.permutation(kinds)
        st = self.st
        comm = np.arange(G) * len(st.communities) // G
        kinds = np.concatenate([kinds, [SPECIAL, SPECIAL]])
        comm = np.concatenate([comm, [1, 3 % len(st.communities)]])
        order = np.argsort(comm, kind="stable")
        kinds, comm = kinds[order], comm[order]
        G = len(kinds)
        lo = np.select([kinds == NORMAL, kinds == JIANYE, kinds == BIG], [300, 430, 480], 40)
        hi = np.select([kinds == NORMAL, kinds == JIANYE, kinds == BIG], [450, 460, 500], 90)
        hh = self.u(lo, hi)
        extra = np.where(kinds == SPECIAL, self.u(100, 200, G), np.round(hh * rng.uniform(.03, .10, G)))
        houses = (hh + extra).astype(np.int64)
        n_mg = np.where(kinds == SPECIAL, 1, np.ceil(hh / 85)).astype(np.int64)
        self.g = dict(kind=kinds, comm=comm, hh=hh, houses=houses, n_mg=n_mg,
                      r=self.u(2, 4, G), f=self.u(6, 18, G), un=self.u(1, 3, G))
        self.G = G

        no_in_comm = np.zeros(G, np.int64)
        for c in range(len(st.communities)):
            sel = np.flatnonzero(comm == c)
            no_in_comm[sel] = np.arange(1, len(sel) + 1)
        comm_codes = [f"{st.code}{c + 1:03d}" for c in range(len(st.communities))]
        grid_code = [f"{comm_codes[c]}{n:03d}" for c, n in zip(comm, no_in_comm)]
        n_a, n_b = len(V.COMPOUND_A), len(V.COMPOUND_B)
        names, gnames, roads, road_no, workers = [], [], [], [], []
        special_i = 0
        for g in range(G):
            if kinds[g] == SPECIAL:
                names.append(st.workplaces[special_i % len(st.workplaces)])
                gnames.append(f"{st.workplaces[special_i % len(st.workplaces)]}专属网格")
                special_i += 1
            else:
                a, b = g % n_a, (g // n_a) % n_b
                phase = g // (n_a * n_b)
                core = V.COMPOUND_A[a] + V.COMPOUND_A[(a * 7 + g // n_a + 3) % n_a] + V.COMPOUND_B[b]
                suffix = V.COMPOUND_SUFFIX[g % len(V.COMPOUND_SUFFIX)]
                name = core + suffix if suffix not in ("苑", "园") else core[:2] + suffix
                if phase:
                    name += f"{phase + 1}期"
                names.append(st.compound_prefix + name)
                gnames.append(f"{st.communities[comm[g]]}第{no_in_comm[g]}网格")
            roads.append(st.roads[g % len(st.roads)])
            road_no.append(2 * (g // len(st.roads)) + 1 + (g % 3) * 2)
        names, lane = shape_compounds(names, kinds, comm, st.compound_prefix)
        self.g["un"][lane] = 1          # a lane's buildings have no units: 169弄47号844室
        self.g.update(code=np.array(grid_code), compound=np.array(names), road=np.array(roads),
                      road_no=np.array(road_no), lane=lane, **compound_clarity(names, comm))
        # A road and door number names one grid; a compound name may stand in several (shape_compounds).
        assert len(set(zip(roads, road_no))) == G, "road and door number must name one grid"
        workers = self.names(G, self.p(.5, G))
        self.g["worker"] = workers

        mg_grid = np.repeat(np.arange(G), n_mg)
        mg_no = np.arange(len(mg_grid)) - np.repeat(np.cumsum(n_mg) - n_mg, n_mg) + 1
        self.mg_offset = np.cumsum(n_mg) - n_mg
        self.microgrids = pl.DataFrame({
            "_mg": np.arange(len(mg_grid)),
            "_grid": mg_grid,
            "区县代码": st.district_code, "区县名称": st.district,
            "街道代码": st.code, "街道名称": st.name,
            "社区代码": np.array(comm_codes)[comm[mg_grid]],
            "社区名称": np.array(st.communities)[comm[mg_grid]],
            "网格编码": np.array(grid_code)[mg_grid],
            "网格名称": np.array(gnames)[mg_grid],
            "网格类型": np.where(kinds[mg_grid] == SPECIAL, "专属网格", "一般网格"),
            "微网格编码": [f"{grid_code[g]}{n:02d}" for g, n in zip(mg_grid, mg_no)],
            "微网格名称": [f"{gnames[g]}第{n}微网格" for g, n in zip(mg_grid, mg_no)],
            "网格员": workers.gather(mg_grid),
            "网格员电话": self.phones(len(mg_grid)),
        })

        H = int(houses.sum())
        grid_of = np.repeat(np.arange(G), houses)
        h_off = np.cumsum(houses) - houses
        idx = np.arange(H) - h_off[grid_of]
        r, f, un = self.g["r"][grid_of], self.g["f"][grid_of], self.g["un"][grid_of]
        cap = r * f * un
        building = idx // cap + 1
        within = idx % cap
        unit = within // (f * r) + 1
        floor = (within % (f * r)) // r + 1
        room = floor * 100 + within % r + 1
        mg = self.mg_offset[grid_of] + idx * n_mg[grid_of] // houses[grid_of]
        # Which houses hold a household: a random hh[g] of each grid's houses.
        key = rng.random(H)
        order = np.lexsort((key, grid_of))
        rank = np.empty(H, np.int64)
        rank[order] = np.arange(H) - h_off[grid_of[order]]
        occupied = rank < hh[grid_of]
        self.h = dict(grid=grid_of, mg=mg, building=building, unit=unit, floor=floor, room=room,
                      occupied=occupied, offset=h_off)
        self.H = H
        special = kinds[grid_of] == SPECIAL
        usage = pick(("住宅", "商业", "办公"), np.where(special & ~occupied, 2, np.where(self.p(.01, H) & ~occupied, 1, 0)))
        occupancy = pick(("自住", "出租", "空置"), np.where(~occupied, 2, np.where(self.p(.35, H), 1, 0)))
        # 标准地址 as a public-security address is built; every other community's carry its community name
        # (四川省成都市武侯区玉林街道芳草社区玉林北路12号…), and a lane's read 魏星路169弄…47号844室.
        lane_h = self.g["lane"][grid_of]
        std = (pl.DataFrame({
            "comm": pick([c if i % 2 else "" for i, c in enumerate(st.communities)], comm[grid_of]),
            "road": pick(self.g["road"], grid_of), "no": self.g["road_no"][grid_of], "lane": lane_h,
            "compound": pick(self.g["compound"], grid_of), "b": building, "u": unit, "fl": floor, "rm": room,
        }).select(pl.when(pl.col("lane")).then(pl.concat_str([
            pl.lit(V.PROVINCE + V.CITY + st.district + st.name), pl.col("comm"), pl.col("road"),
            pl.col("no").cast(pl.String), pl.lit("弄"), pl.col("compound"), pl.col("b").cast(pl.String), pl.lit("号"),
            pl.col("rm").cast(pl.String), pl.lit("室")])).otherwise(pl.concat_str([
            pl.lit(V.PROVINCE + V.CITY + st.district + st.name), pl.col("comm"), pl.col("road"),
            pl.col("no").cast(pl.String), pl.lit("号"), pl.col("compound"), pl.col("b").cast(pl.String), pl.lit("栋"),
            pl.col("u").cast(pl.String), pl.lit("单元"), pl.col("fl").cast(pl.String), pl.lit("楼"),
            pl.col("rm").cast(pl.String), pl.lit("室")])).alias("a"))["a"])
        self.houses = pl.DataFrame({
            "_house": np.arange(H), "_mg": mg, "_grid": grid_of, "_comm": comm[grid_of],
            "_occupied": occupied,
            "房屋编码": pl.Series(np.arange(H) + 10_000_000 * (1 + comm[grid_of]) + st.house_base)
            .cast(pl.String).str.zfill(12),
            "微网格编码": self.microgrids["微网格编码"].gather(mg),
            "标准地址": std,
            "小区(院落)": pick(self.g["compound"], grid_of),
            "_road": pick(self.g["road"], grid_of), "_road_no": self.g["road_no"][grid_of],
            "_b": building, "_u": unit, "_fl": floor, "_rm": room,
            # what the free-text addresses of the house may leave out (evidence.address_text)
            "_lane": lane_h, "_comm_name": pick(st.communities, comm[grid_of]),
            "_ok_any": self.g["ok_any"][grid_of], "_ok_comm": self.g["ok_comm"][grid_of],
            "_ok_station": self.g["ok_station"][grid_of],
            "房屋用途": usage, "居住类型": occupancy,
        })
        self.house_code = self.houses["房屋编码"]

    # ------------------------------------------------------------------ people
    def phones(self, n):
        pre = pick(["13", "15", "17", "18", "19"], self.u(0, 4, n))
        return (pl.DataFrame({"a": pre, "b": self.u(0, 999_999_999, n)})
                .select(pl.col("a") + pl.col("b").cast(pl.String).str.zfill(9))["a"])

    def names(self, n, male):
        return _joined(*self.name_parts(n, male))

    def name_parts(self, n, male, rng: np.random.Generator | None = None):
        """(surname, middle, last) Series: a given name is one character, or two (the middle first)."""
        rng = rng if rng is not None else self.rng

        def u(lo, hi, k):
            return (lo + np.floor(rng.random(k) * (hi - lo + 1))).astype(np.int64)

        sw = 1.0 / (np.arange(len(V.SURNAMES)) + 1) ** 0.9
        sur = pick(V.SURNAMES, rng.choice(len(V.SURNAMES), n, p=sw / sw.sum()))
        mc, fc, mid = V.MALE_CHARS, V.FEMALE_CHARS, V.MIDDLE_CHARS
        last_i = np.where(male, u(0, len(mc) - 1, n), len(mc) + u(0, len(fc) - 1, n))
        last = pick(mc + fc, last_i)
        two = rng.random(n) < .55
        middle = pick(("",) + tuple(mid), np.where(two, 1 + u(0, len(mid) - 1, n), 0))
        return sur, middle, last

    def people(self):
        rng, D, g, h = self.rng, self.D, self.g, self.h
        # --- households and their members (the residents of today)
        hh_house = np.flatnonzero(h["occupied"])
        hh_grid = h["grid"][hh_house]
        nh = len(hh_house)
        size = np.zeros(nh, np.int64)
        for kind, p in SIZE_P.items():
            sel = g["kind"][hh_grid] == kind
            size[sel] = rng.choice(np.arange(1, 7), sel.sum(), p=np.array(p) / sum(p))
        hh_cat = rng.choice([HUKOU, FLOATING, FOREIGN], nh, p=[.60, .385, .015])
        hh_cat = np.where((hh_cat == FOREIGN) & (size > 2), FLOATING, hh_cat)
        hh_cat = np.where(g["kind"][hh_grid] == SPECIAL, np.where(self.p(.8, nh), FLOATING, hh_cat), hh_cat)
        head_age = np.where(size == 1, np.where(self.p(.5, nh), self.u(20, 35, nh), self.u(60, 92, nh)),
                            self.u(24, 85, nh))

        hh_of = np.repeat(np.arange(nh), size)
        k = np.arange(len(hh_of)) - np.repeat(np.cumsum(size) - size, size)
        nr = len(hh_of)
        ha = head_age[hh_of]
        head_male = self.p(.55, nh)[hh_of]
        age = np.where(k == 0, ha, np.where(k == 1, np.clip(ha + self.u(-5, 5, nr), 18, 99),
                                            np.clip(ha - self.u(22, 35, nr), 0, None)))
        age = np.where((k >= 2) & (ha - 22 < 0), self.u(0, 3, nr), age)
        first, second = self._twins(size)
        age[second] = age[first]
        male = np.where(k == 0, head_male, np.where(k == 1, ~head_male, self.p(.51, nr)))
        relation = np.where(k == 0, 0, np.where(k == 1, 1, np.where(male, 2, 3)))
        cat = hh_cat[hh_of]
        unsettled = self.p(.3, nr)
        unsettled[second] = unsettled[first]        # twins are registered (落户) together, or not at all
        cat = np.where((cat == HUKOU) & (age < 3) & unsettled, UNSETTLED, cat)
        lives_alone_old = (size[hh_of] == 1) & (age >= 65)
        res = dict(kind=np.full(nr, RESIDENT), cat=cat, house=hh_house[hh_of], age=age, male=male,
                   relation=relation, household=hh_of, alone_old=lives_alone_old)
        R_g = np.bincount(h["grid"][res["house"]], minlength=self.G)
        self.R_g = R_g

        # --- people who moved away without deregistering (the Jianye pattern), and who deregistered
        kinds = g["kind"]
        stale = np.select(
            [kinds == NORMAL, kinds == JIANYE, kinds == BIG],
            [np.round(R_g * rng.uniform(.03, .08, self.G)), 1500 - R_g + self.u(60, 250, self.G),
             np.round(R_g * .04)], self.u(0, 3, self.G)).astype(np.int64)
        stale = np.maximum(stale, 0)
        dereg = np.round(R_g * rng.uniform(.01, .03, self.G)).astype(np.int64)
        m_grid = np.concatenate([np.repeat(np.arange(self.G), stale), np.repeat(np.arange(self.G), dereg)])
        nm = len(m_grid)
        m_sub = np.concatenate([np.where(self.p(.45, stale.sum()), 1, 2), np.full(dereg.sum(), 3)])
        m_house = h["offset"][m_grid] + self.u(0, g["houses"][m_grid] - 1)
        left = dict(kind=np.full(nm, LEFT), cat=np.where(self.p(.85, nm), FLOATING, HUKOU), house=m_house,
                    age=self.u(18, 58, nm), male=self.p(.55, nm), relation=np.zeros(nm, np.int64),
                    household=np.full(nm, -1), alone_old=np.zeros(nm, bool), sub=m_sub)

        # --- the dead: a member of a household of today died
        nx = max(5, int(round(nr * .012)))
        x_hh = self.u(0, nh - 1, nx)
        dead = dict(kind=np.full(nx, DEAD), cat=np.where(hh_cat[x_hh] == FLOATING, FLOATING, HUKOU),
                    house=hh_house[x_hh], age=self.u(65, 95, nx), male=self.p(.5, nx),
                    relation=np.ones(nx, np.int64), household=x_hh, alone_old=np.zeros(nx, bool))

        # --- registered here by the police, living elsewhere
        nk = max(5, int(round(nr * .04)))
        hk = dict(kind=np.full(nk, HUKOU_ONLY), cat=np.full(nk, HUKOU), house=self.u(0, self.H - 1, nk),
                  age=self.u(18, 80, nk), male=self.p(.5, nk), relation=np.zeros(nk, np.int64),
                  household=np.full(nk, -1), alone_old=np.zeros(nk, bool))

        parts = [res, left, dead, hk]
        cols = {c: np.concatenate([p_[c] for p_ in parts]) for c in res}
        cols["sub"] = np.concatenate([np.zeros(nr, np.int64), m_sub, np.zeros(nx + nk, np.int64)])
        n = len(cols["kind"])
        self.n = n
        death = np.full(n, -1, np.int64)
        isx = cols["kind"] == DEAD
        death[isx] = D - self.u(10, 1000, isx.sum())
        ref = np.where(isx, death, D)
        birth = ref - cols["age"] * 365 - self.u(0, 364, n)
        birth[second] = birth[first]
        male = cols["male"]
        surname, middle, last = self.name_parts(n, male)
        name = _joined(surname, middle, last)
        foreign = cols["cat"] == FOREIGN
        fidx = np.flatnonzero(foreign)
        name = name.scatter(fidx, pick(V.FOREIGN_NAMES, self.u(0, len(V.FOREIGN_NAMES) - 1, len(fidx))))

        # Different humans with the same name and birth date, in different flats.
        res_idx = np.flatnonzero((cols["kind"] == RESIDENT) & (cols["age"] >= 18) & ~foreign)
        n_pairs = max(4, nr // 3000)
        chosen = rng.choice(res_idx, 2 * n_pairs, replace=False)
        a, b = chosen[:n_pairs], chosen[n_pairs:]
        common = ("张伟", "王芳", "李娜", "刘伟", "王静", "张敏", "李强", "王磊")
        a_i = np.arange(n_pairs) % len(common)
        male[a] = np.isin(a_i, [0, 3, 6, 7])
        male[b] = male[a]
        name = name.scatter(a, pick(common, a_i)).scatter(b, pick(common, a_i))
        surname = surname.scatter(a, pick(common, a_i).str.slice(0, 1)).scatter(b, pick(common, a_i).str.slice(0, 1))
        birth[b] = birth[a]
        self.namesakes = np.stack([a, b], 1)
        name, parent = self._families(cols, nr, size, surname, male, name, (first, second), keep=chosen)

        regions = self.st.local_regions + tuple(r_ for r_, _ in V.MIGRANT_REGIONS)
        region_i = np.where(cols["cat"] == HUKOU, rng.choice(5, n, p=[.6, .1, .1, .1, .1]),
                            5 + self.u(0, len(V.MIGRANT_REGIONS) - 1, n))
        region_i[b] = region_i[a]
        region_i[self.twin_pairs[:, 1]] = region_i[self.twin_pairs[:, 0]]
        region = np.array([int(r_) for r_ in regions])[region_i]
        bd = to_date(birth)
        ymd = bd.dt.strftime("%Y%m%d").cast(pl.Int64).to_numpy()
        seq = self.u(0, 499, n) * 2 + male.astype(np.int64)
        reg_i = region.astype(np.int64)
        body = reg_i * 10**11 + ymd * 1000 + seq
        taken = self.taken if self.taken is not None and len(self.taken) else None
        # Across a city the other streets' IDs are taken too; the sequence space (500 per sex, region
        # and day) is wide enough that redrawing converges in a few rounds even at 21 million.
        for _ in range(20 if taken is None else 200):
            _, first, counts = np.unique(body, return_index=True, return_counts=True)
            dup = np.ones(n, bool)
            dup[first] = False
            if taken is not None:
                dup |= _isin_sorted(body, taken)
            if not dup.any():
                break
            seq[dup] = self.u(0, 499, dup.sum()) * 2 + male[dup].astype(np.int64)
            body = reg_i * 10**11 + ymd * 1000 + seq
        else:
            if taken is not None and (len(np.unique(body)) < n or _isin_sorted(body, taken).any()):
                raise RuntimeError("公民身份号码的顺序码已用尽：城市人口过密")
        # A baby not yet registered (未落户) has no ID number yet: every row about it comes without one.
        idn = id_strings(body).scatter(np.flatnonzero(foreign | (cols["cat"] == UNSETTLED)), None)
        eth = pick(V.ETHNICITIES + ("",), np.where(
            foreign, len(V.ETHNICITIES), rng.choice(len(V.ETHNICITIES), n, p=np.array(V.ETHNICITY_P) / sum(V.ETHNICITY_P))))
        origins = [V.PROVINCE + V.CITY] * len(V.LOCAL_REGIONS) + [o for _, o in V.MIGRANT_REGIONS]
        hid = pl.Series(np.arange(n) + 1).cast(pl.String).str.zfill(8)
        self.humans = pl.DataFrame({
            "_i": np.arange(n), "human_id": (self.st.human_prefix + hid).to_numpy(), "_kind": cols["kind"], "_sub": cols["sub"],
            "_cat": cols["cat"], "_house": cols["house"], "_household": cols["household"],
            "姓名": name, "性别": pick(("女", "男"), male.astype(np.int64)), "_birth": birth, "出生日期": bd,
            "民族": eth, "公民身份号码": idn, "_body": body, "_born": ymd // 10000, "_region": region,
            "户籍地": pick(origins, region_i),
            "与户主关系": pick(("户主", "配偶", "子", "女"), cols["relation"]), "_rel": cols["relation"], "_alone_old": cols["alone_old"], "_age": cols["age"],
            "_death": death, "联系电话": self.phones(n), "_parent": parent,
        }).with_columns(
            联系电话=pl.when(pl.col("_age") >= 16).then(pl.col("联系电话")),
            户编号=pl.when(pl.col("_household") >= 0).then(
                pl.lit(self.st.human_prefix + "H") + pl.col("_household").cast(pl.String).str.zfill(7)))

    def _twins(self, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """≈ 1 % of today's residents are twins (1–2 % of births in China): one pair per 200 residents, the
        first two children (members 3 and 4: households are contiguous, head first) of families with two
        children or more. Returns the positions of the first and the second twins; drawn from the families'
        own stream."""
        start = np.cumsum(size) - size
        eligible = np.flatnonzero(size >= 4)
        n_twins = min(len(eligible), int(round(.005 * size.sum())))
        twin_hh = np.sort(self.family_rng.choice(eligible, n_twins, replace=False)) if n_twins else eligible[:0]
        return start[twin_hh] + 2, start[twin_hh] + 3

    def _families(self, cols, nr: int, size: np.ndarray, surname: pl.Series, male: np.ndarray, name: pl.Series,
                  twins: tuple[np.ndarray, np.ndarray], keep: np.ndarray) -> tuple[pl.Series, np.ndarray]:
        """Children named as families name them: what the identity model must tell apart.

        The residents of today (the first ``nr`` humans, households contiguous, head first) get: children
        (与户主关系 子/女) with the father's surname (one family in ten the mother's), in four families of ten
        (seven of ten with twins) a generation character shared by the siblings (字辈), so twins are often one
        character apart (子涵 / 子轩); no child is named, or sounds, like another member. ``twins``: from
        :meth:`_twins`, already of one birth date. ``keep``: humans whose name stays as drawn (the namesakes
        in different flats; a twin among them stops counting as a twin). Drawn from the families' own stream,
        so the rest of the street is unchanged. Returns the names and each human's parent (the mother where
        the household has one, else the head; -1 for adults and people outside households), whose birth
        date a clerk may copy into a child's row.
        """
        rng = self.family_rng
        hh, rel = cols["household"][:nr], cols["relation"][:nr]
        nh = len(size)
        start = np.cumsum(size) - size
        has_spouse = size >= 2
        head = start
        spouse = np.where(has_spouse, start + 1, start)
        father = np.where(male[head] | ~has_spouse, head, spouse)
        mother = np.where(male[head], spouse, head)
        fam_surname = surname.gather(np.where(rng.random(nh) < .1, mother, father))

        kept = np.zeros(len(cols["kind"]), bool)
        kept[keep] = True
        first, second = twins
        whole = ~kept[first] & ~kept[second]
        first, second = first[whole], second[whole]
        is_twin_hh = np.zeros(nh, bool)
        is_twin_hh[hh[first]] = True

        children = np.flatnonzero((rel >= 2) & ~kept[:nr])
        ch_hh = hh[children]
        _, mid, last = self.name_parts(len(children), male[children], rng=rng)
        generation = pick(V.MIDDLE_CHARS, np.floor(rng.random(nh) * len(V.MIDDLE_CHARS)).astype(np.int64))
        shares = rng.random(nh) < np.where(is_twin_hh, .7, .4)
        mid = pl.Series(np.where(shares[ch_hh], generation.gather(ch_hh).to_numpy(), mid.to_numpy()), dtype=pl.String)
        # No family gives a child the name of a parent or a sibling, nor one that sounds the same (twins
        # included): redraw the last character of a child whose name sounds like another member's.
        sound = _char_pinyin()
        spoken = name.head(nr).str.split("").list.eval(pl.element().replace(sound)).list.join(" ")
        surnames = fam_surname.gather(ch_hh)
        for _ in range(50):
            said = pl.DataFrame({"s": surnames, "m": mid, "l": last}).select(
                pl.col("s") + " " + pl.when(pl.col("m") != "").then(pl.col("m").replace(sound) + " ").otherwise(pl.lit(""))
                + pl.col("l").replace(sound))["s"]
            spoken = spoken.scatter(children, said)
            clash = pl.DataFrame({"h": hh, "s": spoken}).is_duplicated().to_numpy()[children]
            if not clash.any():
                break
            redo = np.flatnonzero(clash)
            _, _, fresh = self.name_parts(len(redo), male[children[redo]], rng=rng)
            last = last.scatter(redo, fresh)
        name = name.scatter(children, _joined(surnames, mid, last))
        self.twin_pairs = np.stack([first, second], 1)

        parent = np.full(len(cols["kind"]), -1, np.int64)
        parent[children] = np.where(has_spouse[ch_hh], mother[ch_hh], head[ch_hh])
        return name, parent


def _joined(surname: pl.Series, middle: pl.Series, last: pl.Series) -> pl.Series:
    return pl.DataFrame({"s": surname, "m": middle, "l": last}).select(pl.concat_str("s", "m", "l"))["s"]


def _char_pinyin() -> dict[str, str]:
    """The reading of each given-name character of the vocabulary (a few dozen; pypinyin is a dependency)."""
    from pypinyin import lazy_pinyin

    chars = set(V.MALE_CHARS + V.FEMALE_CHARS + V.MIDDLE_CHARS)
    return {c: lazy_pinyin(c)[0] for c in chars}


PHASE = re.compile(r"(?:[一二三四五六七八九十]+|[0-9]+)期$")


def station_of(comm) -> np.ndarray:
    """The demo's two police stations: communities 0-2 and 3-4 (evidence.py writes 派出所 this way)."""
    return np.asarray(comm) >= 3


def shape_compounds(names: list[str], kinds, comm, prefix: str) -> tuple[list[str], np.ndarray]:
    """Compound names as a real district has them: phases of one estate (锦华苑一期, 锦华苑二期), the same name
    in the next community (a chain, or two old estates named alike), a numbered pair (锦华一村, 锦华二村), a
    name with digits (锦华798艺术区), a block with no compound at all ("" — its address is its road and
    number), and a Shanghai-style lane (returned as a mask). Deterministic: no draws from the world's rng."""
    names = list(names)
    lane = np.zeros(len(names), bool)
    by_comm = [[g for g in range(len(names)) if comm[g] == c and kinds[g] != SPECIAL] for c in sorted(set(comm))]

    def core(g):        # two characters of the name after the street's prefix
        return names[g][len(prefix):len(prefix) + 2]

    for i, gs in enumerate(by_comm):
        if i % 3 == 0 and len(gs) >= 3:
            names[gs[2]] = names[gs[0]] + "二期"
            names[gs[0]] += "一期"
    numbered = None
    for i, gs in enumerate(by_comm):
        if i >= 1 and len(gs) >= 2 and by_comm[i - 1]:
            names[gs[1]] = PHASE.sub("", names[by_comm[i - 1][0]])
        if i == 0 and len(gs) >= 2:
            numbered = core(gs[1])
            names[gs[1]] = prefix + numbered + "一村"
        if i == 1 and len(gs) >= 3:
            names[gs[2]] = prefix + core(gs[2]) + "798艺术区"
        if i == 2 and len(gs) >= 3 and numbered:
            names[gs[2]] = prefix + numbered + "二村"
        if i == 3 and len(gs) >= 3:
            lane[gs[2]] = True
        if i == 4 and len(gs) >= 3:
            names[gs[2]] = ""
    return names, lane


def compound_clarity(names: list[str], comm) -> dict[str, np.ndarray]:
    """Per grid, whether an address that names only its compound (and building, unit, room) names it alone:
    ok_any — the name stands nowhere else; ok_comm — nowhere else in its community (the record's 社区名称
    or a community written in the address settles it); ok_station — nowhere else under its police station.
    A name without a phase also means every phase of it (金域蓝湾 = 金域蓝湾一期, 金域蓝湾二期)."""
    comm = np.asarray(comm)
    station = station_of(comm)
    by_name: dict[str, list[int]] = {}
    by_base: dict[str, list[int]] = {}
    for g, n in enumerate(names):
        by_name.setdefault(n, []).append(g)
        by_base.setdefault(PHASE.sub("", n), []).append(g)
    out = {k: np.ones(len(names), bool) for k in ("ok_any", "ok_comm", "ok_station")}
    for g, n in enumerate(names):
        if not n:
            continue
        same = set(by_name[n]) | (set(by_base.get(n, [])) if not PHASE.search(n) else set())
        out["ok_any"][g] = len(same) == 1
        out["ok_comm"][g] = sum(comm[h] == comm[g] for h in same) == 1
        out["ok_station"][g] = sum(station[h] == station[g] for h in same) == 1
    return out


def _isin_sorted(values: np.ndarray, sorted_pool: np.ndarray) -> np.ndarray:
    pos = np.minimum(np.searchsorted(sorted_pool, values), len(sorted_pool) - 1)
    return sorted_pool[pos] == values


def id_strings(body: np.ndarray) -> np.ndarray:
    """17-digit bodies -> 18-character resident ID numbers (GB 11643 check character)."""
    w = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    s = np.zeros(len(body), np.int64)
    b = body.copy()
    for i in range(16, -1, -1):
        s += (b % 10) * w[i]
        b //= 10
    return pl.Series(body).cast(pl.String).str.zfill(17) + pick("10X98765432", s % 11)
