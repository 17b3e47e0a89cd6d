"""A check runs after every table its suites read is built in the same run (additional_deps derived
from the suites' SQL): on a first run no rule may miss its rows, on a rerun none may read the
previous run's tables."""
from __future__ import annotations

import pytest

from pipelines.assets import quality as q
from pipelines.definitions import all_assets, all_checks, defs
from pipelines.quality.validate import suite_docs, tables_read


def graph_upstream() -> dict:
    """Dagster's own view of the graph: every asset's ancestors."""
    graph = defs.resolve_asset_graph()
    return {key: graph.get_ancestor_asset_keys(key) for a in all_assets for key in a.keys}


def test_every_suite_is_checked():
    checked = {s for entry in q.CHECKED for s in entry[1]}
    assert checked == set(suite_docs())


def test_each_check_waits_for_every_table_its_suites_read():
    up = graph_upstream()
    specs = {s.name: s for c in all_checks for s in c.check_specs}
    for asset, suites, blocking, *name in q.CHECKED:
        spec = specs[name[0] if name else "expectations_" + "_".join(asset.key.path)]
        ready = up[asset.key] | {asset.key} | {d.asset_key for d in spec.additional_deps}
        for suite in suites:
            for table in tables_read(suite):
                assert q.builder(table) in ready, (spec.name, suite, table)
        if blocking:   # a blocking check waits for nothing but its asset and what that is built from
            assert not spec.additional_deps, spec.name


def test_a_blocking_check_reading_a_later_table_is_refused():
    from pipelines.assets import core

    with pytest.raises(ValueError, match="move those rules"):
        q.check_deps(core.houses, ("core_house_occupancy",), True)
