"""Where a report sheet's pages break, planned before it is written, so no printed page holds only the repeated
header row and notes, and the last rows stay with their 合计.

The sheet prints A4 landscape, fitted to the page width (pipelines/publish/writers.print_setup), every row at the
height the writer sets. How wide a column prints differs between office suites (Excel and WPS: 7 px a character
of the default font; LibreOffice, measured on its PDF output: about 7.3 pt), so the fit-to-width scale, and with
it the rows a page holds, differ too: the plan lays the rows out under both and takes what is right in both.
The first page runs from the title, each further page below the repeated header row. When the notes would
spill onto a page of their own, the sheet is fitted to fewer pages if that costs at most MIN_SHRINK of the type
size; else a page break is put before the last KEEP data rows so they, the 合计 and the notes share the last
page. tests/reports/test_print.py prints every workbook with LibreOffice and checks the pages.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PAGE_WIDTH = 841.9 - 2 * 0.4 * 72      # A4 landscape less print_setup's 0.4 in margins, in points
SAFETY = 0.96                          # a few points per page the suites do not tell
MIN_SHRINK = 0.85                      # fit to fewer pages only while the type keeps 85 % of its fitted size
KEEP = 3                               # data rows (the 合计 among them) carried to the notes' page

# (column width in characters → points, printable page height in points) per office suite: Excel/WPS put the
# page number in openpyxl's 1 in bottom margin; LibreOffice prints from its 0.5 in header margin down to the footer
SUITES: dict[str, tuple[Callable[[float], float], float]] = {
    "excel": (lambda w: (w * 7 + 5) * 0.75, 595.3 - 2 * 72),
    "libreoffice": (lambda w: w * 7.3, 595.3 - 0.5 * 72 - 72),
}


@dataclass(frozen=True)
class Plan:
    fit_height: int          # pages tall to fit the sheet to; 0: as many as needed
    breaks: tuple[int, ...]  # 1-based rows a page starts at (manual row breaks)


def _paginate(heights: list[float], header_row: int, cap: float, breaks: set[int]) -> list[list[int]]:
    pages: list[list[int]] = [[]]
    used = 0.0
    for row, h in enumerate(heights, start=1):
        if pages[-1] and (row in breaks or used + h > cap):
            pages.append([])
            used = heights[header_row - 1]          # the repeated header row
        pages[-1].append(row)
        used += h
    return pages


def plan(widths: list[float], heights: list[float], *, header_row: int, data_rows: set[int],
         picture: int | None = None) -> Plan:
    """``widths`` in characters; ``heights`` in points for rows 1..n (``picture``: the row standing for a
    picture below the notes, its height the picture's, its caption the row above); ``data_rows``: the table's rows (合计 included), which
    every page must show one of (or the picture)."""
    caps = []
    for points, height in SUITES.values():
        scale = min(1.0, PAGE_WIDTH / sum(points(w) for w in widths))
        caps.append(height * SAFETY / scale)

    def layouts(fit: int, breaks: set[int]) -> list[list[list[int]]] | None:
        """Each suite's pages: at its fitted width, or shrunk as far as it must to fit ``fit`` pages (None: it
        would shrink below MIN_SHRINK)."""
        out = []
        for cap in caps:
            pages = _paginate(heights, header_row, cap, breaks)
            if fit and len(pages) > fit:
                lo, hi = MIN_SHRINK, 1.0            # the suite takes the largest scale that fits
                if len(_paginate(heights, header_row, cap / lo, breaks)) > fit:
                    return None
                for _ in range(20):
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if len(_paginate(heights, header_row, cap / mid, breaks)) <= fit else (lo, mid)
                pages = _paginate(heights, header_row, cap / lo, breaks)
            out.append(pages)
        return out

    content = data_rows | ({picture} if picture else set())
    # a picture starts a page of its own, below its caption (the row above it): a chart cut at a page's foot
    # would print its rest alone on the next page
    fixed = {picture - 1} if picture else set()

    def ok(all_pages) -> bool:
        return all_pages is not None and all(content.intersection(p) for pages in all_pages for p in pages)

    natural = layouts(0, fixed)
    if ok(natural):
        return Plan(0, tuple(sorted(fixed)))
    for fit in range(1, max(len(p) for p in natural)):
        if ok(layouts(fit, fixed)):
            return Plan(fit, tuple(sorted(fixed)))
    last = max(data_rows)
    start = last - KEEP + 1 if last - KEEP + 1 > min(data_rows) else None
    if start is not None and ok(layouts(0, {start} | fixed)):
        return Plan(0, tuple(sorted({start} | fixed)))
    return Plan(0, tuple(sorted(fixed)))
