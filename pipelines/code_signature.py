"""One digest of the code and configuration a build uses: the pipeline's folders and the versions of the packages
whose results land in the store or its files. A district whose inputs and signature are unchanged is not run again
(pipelines/districts.py); evidence and status are rebuilt whole when it changed (pipelines/status/delta.py)."""
from __future__ import annotations

import hashlib

from pipelines.paths import REPO_ROOT

CODE_FOLDERS = ("pipelines", "sql", "sources", "expectations", "reports")
PACKAGES = ("duckdb", "polars", "great-expectations", "openpyxl", "lxml", "jinja2", "pypinyin", "matplotlib")


def code_signature() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(" ".join(f"{p}={version(p)}" for p in PACKAGES).encode())
    for folder in CODE_FOLDERS:
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
