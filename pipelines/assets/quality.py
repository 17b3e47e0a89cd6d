"""quality: GX suites (expectations/) run as asset checks, and the one steward queue.

Structural rules (duplicate golden IDs, orphan houses, reconciliation mismatch) block downstream
assets; row-level rules warn and feed the steward queue. Each check links its GX Data Docs page.
"""

import dagster as dg

from pipelines.assets import core, identity, ingest, marts, staging, status
from pipelines.quality import build_queue, last_rebuild, scorecard, validate
from pipelines.resources import RunSettings, StoreResource

# asset -> (suites, blocking): blocking checks stop everything downstream when a structural rule fails.
CHECKED = (
    (ingest.batches, ("raw_batches",), True),
    (staging.tables, ("staging_grids", "staging_housing", "staging_residents", "staging_visits", "staging_hukou",
                      "staging_floating", "staging_assistance", "staging_deaths", "staging_disability"), False),
    (core.grids, ("core_grids",), True),
    (core.houses, ("core_houses",), True),
    (core.address_matches, ("core_address_matches",), False),
    (core.person_records, ("core_person_records",), False),
    (identity.persons, ("core_persons", "core_person_links"), True),
    (status.person_status, ("core_person_status",), False),
)


def _suite_check(asset: dg.AssetsDefinition, suites: tuple[str, ...], blocking: bool) -> dg.AssetChecksDefinition:
    name = "expectations_" + "_".join(asset.key.path)

    @dg.asset_check(asset=asset, name=name, blocking=blocking,
                    description=f"GX 校验套件：{', '.join(suites)}（{'结构性规则失败将阻止下游' if blocking else '行级规则，仅告警'}）")
    def check(store: StoreResource, settings: RunSettings) -> dg.AssetCheckResult:
        docs_dir = settings.home_path / "quality" / "data-docs" / name
        with store.get().connect() as conn:
            results = validate(conn, list(suites), docs_dir=docs_dir, as_of=settings.as_of_date)
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
                "data_docs": dg.MetadataValue.path(str(docs_dir / "index.html")),
            },
        )

    return check


suite_checks = [_suite_check(asset, suites, blocking) for asset, suites, blocking in CHECKED]


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
