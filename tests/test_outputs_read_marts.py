"""Outputs read the marts: no report, person list, extract view or portal query names a core or staging table, so no
output re-derives a status or a count (docs/architecture.md, "Marts: the one interface to outputs")."""
from __future__ import annotations

import re
from pathlib import Path

from pipelines.paths import REPO_ROOT

NAMED = re.compile(r"\b(core|staging)\.([a-z_]+)\b")

# (file, table): what an output still reads below the marts, and why (none today; the test keeps the mechanism)
ALLOWED: set[tuple[str, str]] = set()


def _outputs() -> list[Path]:
    return sorted([*(REPO_ROOT / "sql" / "reports").glob("*.sql"), *(REPO_ROOT / "pipelines" / "reports").glob("*.py"),
                   *(REPO_ROOT / "pipelines" / "web").glob("*.py"), REPO_ROOT / "pipelines" / "publish" / "extracts.py",
                   REPO_ROOT / "pipelines" / "publish" / "task_workbook.py"])


def _code(path: Path) -> str:
    """The file without its comments: a comment may say where a value comes from."""
    marker = "--" if path.suffix == ".sql" else "#"
    return "\n".join(line.split(marker, 1)[0] for line in path.read_text(encoding="utf-8").splitlines())


def named_below_marts(path: Path) -> set[str]:
    return {f"{m[1]}.{m[2]}" for m in NAMED.finditer(_code(path))}


def test_no_output_names_a_core_or_staging_table():
    found = {(str(p.relative_to(REPO_ROOT)), t) for p in _outputs() for t in named_below_marts(p)}
    assert found - ALLOWED == set(), "outputs must read marts (sql/marts), not core or staging"
    assert ALLOWED - found == set(), "an allowance no longer needed: remove it"


def test_the_check_sees_a_core_table(tmp_path):
    sql = tmp_path / "x.sql"
    sql.write_text("-- from core.persons\nSELECT * FROM marts.persons JOIN core.person_status USING (person_key)",
                   encoding="utf-8")
    assert named_below_marts(sql) == {"core.person_status"}
