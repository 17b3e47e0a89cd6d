"""The streets of the demo city: street 0 is 玉林街道 exactly; every other index gets its own names and codes.

Everything a street writes that a store could take for a key (division codes, community and
compound names, roads, house codes, 记录编号, file names, human ids) is unique across streets,
so a city is the streets' files side by side in one inbox.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipelines.demo import vocab as V

MAX_STREETS = 1000          # street index fits 3 digits: street codes, 记录编号 and house codes rely on it
_CENTRAL = tuple(code for code, _ in V.DISTRICTS)


def _round_robin() -> tuple[tuple[str, int], ...]:
    # Districts take turns: each street's 户籍人口 mostly carry its own district's ID region, and a city
    # of 21 streets spread over five districts keeps every (region, birth date, sex) well below the
    # 500 sequence numbers an ID has for it.
    by_d = [[stem for stem, d in V.STREET_STEMS if d == k] for k in range(len(V.DISTRICTS))]
    return tuple((stems[i], k) for i in range(max(map(len, by_d))) for k, stems in enumerate(by_d) if i < len(stems))


_STEMS = _round_robin()


@dataclass(frozen=True)
class Street:
    index: int
    district: str
    district_code: str
    name: str
    code: str
    communities: tuple[str, ...]
    police_stations: tuple[str, ...]
    roads: tuple[str, ...]
    workplaces: tuple[str, ...]
    compound_prefix: str      # in front of every compound name: compounds are matched city-wide
    local_regions: tuple[str, ...]   # ID regions of the street's 户籍人口, its own district first
    civil_office: str         # 民政局 that registers deaths
    file_prefix: str          # in front of every file name
    record_infix: str         # between a template's 记录编号 prefix and the running number
    house_base: int           # added to every 房屋编码
    human_prefix: str         # of the truth's human_id


def _cn(n: int) -> str:
    return "".join(V.CN_DIGITS[int(c)] for c in str(n))


def street(s: int) -> Street:
    """Street ``s`` of the city; 0 is today's 玉林街道, byte for byte."""
    if not 0 <= s < MAX_STREETS:
        raise ValueError(f"街道序号须在 0..{MAX_STREETS - 1} 之间：{s}")
    if s == 0:
        return Street(0, V.DISTRICT, V.DISTRICT_CODE, V.STREET, V.STREET_CODE, V.COMMUNITIES, V.POLICE_STATIONS,
                      V.ROADS, V.WORKPLACES, "", V.LOCAL_REGIONS, f"{V.DISTRICT}民政局", "", "", 0, "P")
    stem, d = _STEMS[(s - 1) % len(_STEMS)]
    generation = (s - 1) // len(_STEMS)
    root = stem[:-1] if stem.endswith("路") else stem
    if generation:
        # Past the list: a new town beside the old street. 新城 is no road suffix, so no root aliases another.
        root += "新城" + (_cn(generation + 1) if generation > 1 else "")
        stem = root
    district_code, district = V.DISTRICTS[d]
    # Street numbers from 010 up, per district: 玉林街道 keeps 510107004 to itself.
    number = 10 + generation * len(_STEMS) + sum(1 for _, dd in _STEMS[:(s - 1) % len(_STEMS)] if dd == d)
    local = (district_code,) + tuple(c for c in _CENTRAL if c != district_code)[:4]
    name = f"{stem}街道"
    return Street(
        index=s, district=district, district_code=district_code, name=name, code=f"{district_code}{number:03d}",
        communities=tuple(root + x for x in V.COMMUNITY_SUFFIXES),
        police_stations=tuple(root + x for x in V.POLICE_SUFFIXES),
        roads=tuple(root + x for x in V.ROAD_SUFFIXES),
        workplaces=tuple(root + x for x in V.WORKPLACE_SUFFIXES),
        compound_prefix=root, local_regions=local, civil_office=f"{district}民政局",
        file_prefix=name, record_infix=f"{s:03d}", house_base=s * 10**9, human_prefix=f"S{s:03d}P")
