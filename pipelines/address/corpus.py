"""How well addresses are read, part by part, on a corpus of addresses annotated by hand.

The corpus (``tests/address/corpus/addresses.txt``, described in its README) holds addresses of many
cities and forms, each with its parts as ``onceonly address parse`` should write them. Its lines are split
by parity into a development half (odd: the 1st, 3rd … address) and a held-out half (even), and every
score is given for both: a reader tuned to the first half shows it on the second.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from pipelines.paths import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "address" / "corpus" / "addresses.txt"
# Chinese column of the parse CSV -> ap_out column
PARTS = (("道路", "road"), ("门牌号", "road_no"), ("小区", "compound"), ("楼栋", "building"), ("单元", "unit"),
         ("楼层", "floor"), ("室", "room"))
FLOOR = 0.95                                          # issue 18: each of these read right in ≥ 95 %
FLOOR_PARTS = ("道路", "门牌号", "楼栋", "单元", "室")
HALVES = ("开发集", "保留集")                          # development half, held-out half


def read_corpus(path: Path = CORPUS) -> list[dict]:
    """One dict per address: 地址, the seven parts ('' where the address gives none), 备注, half."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("|")]
        fields += [""] * (9 - len(fields))
        row = {"地址": fields[0], **{name: fields[1 + i] for i, (name, _) in enumerate(PARTS)}, "备注": fields[8]}
        row["half"] = HALVES[len(rows) % 2]
        rows.append(row)
    return rows


def score(rows: list[dict], parsed: list[dict]) -> dict:
    """Per half and part: how many addresses give the part, how many of those were read right, and how many
    addresses that do not give it were read as giving one (多读)."""
    out = {h: {"given": Counter(), "right": Counter(), "extra": Counter(), "addresses": 0, "wrong": []}
           for h in (*HALVES, "全部")}
    for row, got in zip(rows, parsed):
        for half in (row["half"], "全部"):
            s = out[half]
            s["addresses"] += 1
            bad = []
            for name, col in PARTS:
                want, have = row[name], got.get(col) or ""
                if want:
                    s["given"][name] += 1
                    s["right"][name] += want == have
                elif have:
                    s["extra"][name] += 1
                if want != have:
                    bad.append(f"{name} 应为“{want}” 读作“{have}”")
            if bad and half != "全部":
                s["wrong"].append((row["地址"], bad))
    for s in out.values():
        s["accuracy"] = {name: (s["right"][name] / s["given"][name] if s["given"][name] else None)
                         for name, _ in PARTS}
    return out


def home_units() -> list[tuple[str, str, str]]:
    """The divisions the corpus's own-district lines name (武侯区 玉林街道 and its communities): read with them
    as a deployment reads its addresses with its own core.grids; other cities' lines have no such help."""
    from pipelines.demo import vocab as V

    return ([("district", V.DISTRICT_CODE, V.DISTRICT), ("street", V.STREET_CODE, V.STREET)]
            + [("community", f"{V.STREET_CODE}{i + 1:03d}", c) for i, c in enumerate(V.COMMUNITIES)])


def corpus_scores(path: Path = CORPUS) -> dict | None:
    """Read the corpus and score it; None when the corpus is not there (an installed copy without tests)."""
    from pipelines.address.parse import parse_lines

    if not Path(path).exists():
        return None
    rows = read_corpus(path)
    result = score(rows, parse_lines([r["地址"] for r in rows], units=home_units()))
    result["passed"] = all(result[h]["accuracy"][p] is None or result[h]["accuracy"][p] >= FLOOR
                           for h in HALVES for p in FLOOR_PARTS)
    return result


def format_corpus(result: dict) -> list[str]:
    """Lines for ``onceonly demo --check``: per part, the share read right in each half."""
    names = [n for n, _ in PARTS]
    lines = [f"{'地址要素 part (语料 corpus)':<24}" + "".join(f"{n:<9}" for n in names) + "判定"]
    for half in (*HALVES, "全部"):
        s = result[half]
        cells = []
        for n in names:
            acc = s["accuracy"][n]
            cells.append(f"{'—' if acc is None else f'{acc:.1%}':<10}")
        ok = all(s["accuracy"][p] is None or s["accuracy"][p] >= FLOOR for p in FLOOR_PARTS)
        label = f"{half}（{s['addresses']}条）"
        lines.append(f"{label:<26}" + "".join(cells)
                     + ("" if half == "全部" else ("PASS" if ok else "FAIL")))
    lines.append(f"  （道路、门牌号、楼栋、单元、室各 >= {FLOOR:.0%}，只计给出该要素的地址；多读 "
                 + "、".join(f"{n} {result['全部']['extra'][n]}" for n in names if result["全部"]["extra"][n])
                 + "）")
    return lines
