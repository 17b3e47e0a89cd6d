"""quality: GX suites (expectations/) run as asset checks, and the one steward queue.

Structural rules (duplicate golden IDs, orphan houses, reconciliation mismatch) block downstream
assets; row-level rules warn and feed the steward queue. Each check links its GX Data Docs page.

A suite may read tables besides its own (a house's residents need core.person_status): its check
then also depends on the assets that build them (``additional_deps``, derived from the suite's SQL),
so it runs once they are built, on this run's data. Without that, a check ran before its tables
existed on a first run (its rows missing from the queue) and read the previous run's on a rerun.
A blocking check waits for nothing but its asset and what that asset is built from (anything else
would wait, through that asset's own blocking check, in a circle): a rule that needs a later table
goes to a suite of its own, checked without blocking (core_grid_households, core_house_occupancy,
core_person_age).
"""

import dagster as dg

from pipelines.assets import core, identity, ingest, marts, staging, status
from pipelines.quality import build_queue, last_rebuild, scorecard, validate
from pipelines.quality.validate import tables_read
from pipelines.resources import RunSettings, StoreResource

# asset -> (suites, blocking[, check name]): blocking checks stop everything downstream when a structural rule fails.
CHECKED = (
    (ingest.batches, ("raw_batches",), True),
    (staging.tables, ("staging_grids", "staging_housing", "staging_residents", "staging_visits", "staging_hukou",
                      "staging_floating", "staging_assistance", "staging_deaths", "staging_disability"), False),
    (core.grids, ("core_grids",), True),
    (core.grids, ("core_grid_households",), False, "expectations_core_grid_households"),
    (core.houses, ("core_houses",), True),
    (core.houses, ("core_house_occupancy",), False, "expectations_core_house_occupancy"),
    (core.address_matches, ("core_address_matches",), False),
    (core.person_records, ("core_person_records",), False),
    (identity.persons, ("core_persons", "core_person_links"), True),
    (identity.persons, ("core_person_age",), False, "expectations_core_person_age"),
    (status.person_status, ("core_person_status",), False),
)
_BUILDERS = (ingest.batches, staging.tables, core.grids, core.houses, core.address_matches, core.person_records,
             identity.persons, status.evidence, status.person_status, marts.contract_extracts)
# Tables built by an asset whose key does not name them.
_BUILT_BY = {"raw": ingest.batches.key, "staging": staging.tables.key,
             "core.person_links": identity.persons.key, "core.link_candidates": identity.persons.key,
             "core.merge_log": identity.persons.key, "core.person_key_registry": identity.persons.key}


def builder(table: str) -> dg.AssetKey:
    """The asset that builds store table ``schema.name``."""
    schema, name = table.split(".", 1)
    keys = {a.key for a in _BUILDERS}
    if dg.AssetKey([schema, name]) in keys:
        return dg.AssetKey([schema, name])
    if table in _BUILT_BY:
        return _BUILT_BY[table]
    if schema in _BUILT_BY:
        return _BUILT_BY[schema]
    raise KeyError(f"no asset is known to build {table}: add it to _BUILT_BY")


def upstream(key: dg.AssetKey) -> set[dg.AssetKey]:
    """Every asset ``key`` depends on, transitively."""
    deps = {a.key: set(a.asset_deps[a.key]) for a in _BUILDERS}
    seen, todo = set(), [key]
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def check_deps(asset: dg.AssetsDefinition, suites: tuple[str, ...], blocking: bool) -> list[dg.AssetKey]:
    """The assets, besides ``asset`` and its upstream, whose tables the suites read."""
    before = upstream(asset.key) | {asset.key}
    extra = sorted({builder(t) for suite in suites for t in tables_read(suite)} - before, key=str)
    if blocking and extra:
        raise ValueError(f"blocking check of {asset.key.to_user_string()} reads tables not built before it "
                         f"({', '.join(k.to_user_string() for k in extra)}): move those rules to a suite checked "
                         "without blocking")
    return extra


def _suite_check(asset: dg.AssetsDefinition, suites: tuple[str, ...], blocking: bool,
                 name: str | None = None) -> dg.AssetChecksDefinition:
    name = name or "expectations_" + "_".join(asset.key.path)

    @dg.asset_check(asset=asset, name=name, blocking=blocking, additional_deps=check_deps(asset, suites, blocking),
                    description=f"GX 校验套件：{', '.join(suites)}（{'结构性规则失败将阻止下游' if blocking else '行级规则，仅告警'}）")
    def check(store: StoreResource, settings: RunSettings) -> dg.AssetCheckResult:
        docs_dir = settings.home_path / "quality" / "data-docs" / name
        with store.get().connect() as conn:
            results = validate(conn, list(suites), docs_dir=docs_dir, as_of=settings.as_of_date,
                               incremental=True)
        blocking_rules = sorted({rule for r in results for rule in r.blocking})
        failed = sum(r.n_failed for r in results)
        return dg.AssetCheckResult(
            passed=not blocking_rules if blocking else failed == 0,
            severity=dg.AssetCheckSeverity.ERROR if blocking_rules else dg.AssetCheckSeverity.WARN,
            metadata={
                "expectations": sum(r.n_expectations for r in results),
                "failed_expectations": failed,
                "failing_rows": sum(r.failing_rows for r in results),
                "blocking_rules": ", ".join(blocking_rules) or "无",
                # staging suites: 'delta' when only new or re-delivered batches were counted (pipelines/quality/batches.py)
                "built": "delta" if any(r.built == "delta" for r in results) else "full",
                "data_docs": dg.MetadataValue.path(str(docs_dir / "index.html")),
            },
        )

    return check


suite_checks = [_suite_check(*entry) for entry in CHECKED]


@dg.asset(key_prefix="quality", group_name="quality", deps=[marts.contract_extracts], kinds={"duckdb"},
          description="quality.issues（问题清单）: 读取错误、校验失败、无法确认的人员关联、地址未匹配，统一进一个清单；及数据新鲜度评分。")
def steward_queue(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        open_issues = build_queue(conn)
        rebuilt = last_rebuild(conn)
        scorecard(conn, settings.as_of_date)
        by_rule = dict(conn.execute(
            "SELECT rule, count(*) FROM quality.issues WHERE status = 'open' GROUP BY rule ORDER BY rule").fetchall())
    # what this rebuild did with the stewards' decisions (quality.queue_runs), as `onceonly run` prints it
    changed = {k: rebuilt[k] for k in ("opened", "closed", "corrections_in_force", "corrections_new")}
    return dg.MaterializeResult(metadata={"open_issues": open_issues, **changed,
                                          **{f"rule_{k}": v for k, v in by_rule.items()}})
