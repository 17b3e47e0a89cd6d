"""LibreOffice as a clerk's office suite for tests: open a CSV the way a double-click does, print a workbook to
pages. Debian's libreoffice-calc-nogui and poppler-utils (.ci/run installs them); a test fails, not skips, without."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

# What a double-click in LibreOffice does to a CSV, with the character set fixed to UTF-8 (headless LibreOffice
# would read it as Latin-1): comma, double quote, UTF-8 (76), from line 1, every column "Standard" — so numbers,
# dates and formulas are recognised as Excel and WPS recognise them.
CSV_AS_OPENED = "CSV:44,34,76,1"


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{'、'.join(missing)} needed (.ci/run installs libreoffice-calc-nogui and poppler-utils)")


def convert(paths: list[Path], to: str, outdir: Path, *, infilter: str | None = None) -> list[Path]:
    """``soffice --headless --convert-to <to>`` for ``paths`` in one LibreOffice start, with its own profile (the
    machine's other LibreOffice users keep theirs); the converted files, in the order of ``paths``."""
    need("soffice")
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = ["soffice", "--headless", f"-env:UserInstallation=file://{outdir}/.lo-profile", "--convert-to", to,
           "--outdir", str(outdir)]
    if infilter:
        cmd.insert(2, f"--infilter={infilter}")
    subprocess.run([*cmd, *map(str, paths)], check=True, capture_output=True, timeout=600)
    out = [outdir / (p.stem + "." + to.split(":")[0]) for p in paths]
    missing = [p.name for p in out if not p.exists()]
    assert not missing, f"LibreOffice wrote no {missing}"
    return out


def pdf_pages(pdf: Path) -> list[str]:
    """Each page's text, laid out (pdftotext -layout)."""
    need("pdftotext")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


def pages_with_images(pdf: Path) -> set[int]:
    need("pdfimages")
    out = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines()[2:] if line.strip()}
