"""`python -m pipelines.compare outputs`: every output of two homes rendered and compared byte for byte, the check a
change that should not change any output is held to (docs/architecture.md, "Comparing outputs")."""
from __future__ import annotations

import shutil

import pytest

from pipelines.compare import file_differences, main, render_outputs
from pipelines.store import Store
from tests.publish.conftest import AS_OF
from tests.schema import copy_of

# a grid-level department: every output it gets is rendered for one grid, which keeps this test small
DEPT = "网格员"


@pytest.mark.slow   # renders every output of two homes
def test_outputs_of_two_homes_compared(world_template, tmp_path, capsys):
    copy_of(world_template, tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    out_a = tmp_path / "out-a"
    n = render_outputs(tmp_path / "a", AS_OF, out_a, [DEPT])
    assert n > 5 and any(p.suffix == ".xlsx" for p in out_a.rglob("*"))
    # the same home renders the same bytes
    render_outputs(tmp_path / "b", AS_OF, tmp_path / "out-b", [DEPT])
    assert file_differences(out_a, tmp_path / "out-b") == []

    # one grid renamed in the marts of b: every output naming it differs, and the command says so
    with Store(tmp_path / "b" / "store.duckdb").connect() as conn:
        conn.execute("UPDATE marts.grids SET grid_name = grid_name || '（改）'")
    assert main(["outputs", str(tmp_path / "a"), str(tmp_path / "b"), "--as-of", AS_OF.isoformat(),
                 "--department", DEPT]) == 1
    printed = capsys.readouterr().out
    differing = [line for line in printed.splitlines() if line.endswith(": other bytes")]
    assert {line.rsplit(".", 1)[1] for line in differing if "/reports/grid-standards" in line} == {"html: other bytes",
                                                                                               "xlsx: other bytes"}
    assert "identical" not in printed
