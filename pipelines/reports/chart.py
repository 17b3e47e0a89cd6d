"""Small charts drawn on the server (matplotlib, no browser script): SVG for the HTML pages, PNG for workbooks.

Text is set in a Chinese font found on the machine (Debian: fonts-noto-cjk) and drawn as outlines in the SVG,
so a page shows it without that font. Where no Chinese font is installed there is no chart, and the report
says why instead of printing boxes. The same data gives the same bytes (fixed SVG ids, no dates in either file).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

# Families tried in order; the first one installed is used.
CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                "Microsoft YaHei", "SimHei", "PingFang SC")
NO_FONT_NOTE = "本机未安装中文字体（如 Debian 的 fonts-noto-cjk），趋势图未生成；数字见上表。"
_lock = threading.Lock()   # matplotlib's settings are process-wide; the portal renders on several threads

DARK, LIGHT = "#2f6fb0", "#a9c4e4"


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup         # inline <svg> for the HTML report
    png: bytes          # for the workbook
    width_px: int
    height_px: int


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FAMILIES if f in installed), None)


def gap_chart(title: str, series: list[tuple[dt.date, int]], grids: list[tuple[str, int | None, int]],
              *, top: int = 15) -> Chart | None:
    """登记人口 − 实有人口 over the as-of dates (left), and per grid on the previous and this as-of (right,
    the ``top`` largest). ``series``: (as-of, total gap); ``grids``: (name, previous gap or None, gap)."""
    font = cjk_font()
    if font is None:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    grids = sorted(grids, key=lambda g: (-g[2], g[0]))[:top][::-1]
    with _lock, matplotlib.rc_context({"font.family": [font], "svg.hashsalt": "onceonly", "axes.unicode_minus": False,
                                       "font.size": 9}):
        fig = Figure(figsize=(10, 0.9 + 0.22 * max(len(grids), 8)), dpi=100, layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=(2, 3))
        days = [d for d, _ in series]
        left.plot(range(len(days)), [v for _, v in series], marker="o", color=DARK)
        for i, (_, v) in enumerate(series):
            left.annotate(f"{v:,}", (i, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        left.set_xticks(range(len(days)), [d.strftime("%Y-%m-%d") for d in days], rotation=30, ha="right")
        left.set_xlim(-0.5, max(len(days) - 0.5, 0.5))
        left.set_ylim(0, max([v for _, v in series] + [1]) * 1.2)
        left.set_title("合计：登记人口 − 实有人口")
        left.grid(axis="y", color="#dddddd")

        y = range(len(grids))
        if any(p is not None for _, p, _ in grids):
            right.barh([i + 0.2 for i in y], [p or 0 for _, p, _ in grids], height=0.4, color=LIGHT, label="上期")
            right.barh([i - 0.2 for i in y], [g for _, _, g in grids], height=0.4, color=DARK, label="本期")
            right.legend(loc="lower right", fontsize=8)
        else:
            right.barh(list(y), [g for _, _, g in grids], height=0.6, color=DARK, label="本期")
        right.set_yticks(list(y), [n for n, _, _ in grids])
        right.set_ylim(-0.7, max(len(grids), 8) - 0.3)     # a few grids keep bars of the usual thickness
        right.set_title("各网格：登记人口 − 实有人口" + (f"（差额最大的 {top} 个）" if len(grids) >= top else ""))
        right.grid(axis="x", color="#dddddd")
        fig.suptitle(title, fontsize=11)

        png, svg = io.BytesIO(), io.StringIO()
        fig.savefig(png, format="png", metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        width, height = (int(round(v)) for v in fig.get_size_inches() * fig.dpi)
    text = re.sub(r"^.*?(?=<svg)", "", svg.getvalue(), flags=re.S)     # inline: no XML prolog or DOCTYPE
    return Chart(title, Markup(text), png.getvalue(), width, height)
