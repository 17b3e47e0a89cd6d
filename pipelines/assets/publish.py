"""publish: the last asset of the graph. It runs only when every other asset has been built and no blocking
check stopped one (blocking checks stop everything downstream, and this is downstream of everything); it
checkpoints the new store version and marks it ready. The run's store resource publishes it when the run ends
without a failed step, after closing it (pipelines/versions.py)."""
import dagster as dg

from pipelines.resources import RunSettings, StoreResource

PUBLISH_KEY = dg.AssetKey(["store", "version"])


def publish_asset(upstream: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    keys = sorted({k for a in upstream for k in a.keys}, key=lambda k: k.to_user_string())

    @dg.asset(key=PUBLISH_KEY, group_name="publish", deps=keys, kinds={"duckdb"},
              description="发布：全部资产完成、阻断性校验全部通过后，把本次构建的数据库版本标记为可发布；运行结束时"
                          "以一次原子替换成为当前版本（门户随即显示新数据）。失败或被中断的运行不发布任何内容。")
    def store_version(store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
        build = store.build
        with store.get().connect(macros=False) as conn:
            # Everything into the file now: a published version is read-only and must not need its log.
            conn.execute("CHECKPOINT")
        build.mark_ready(as_of=settings.as_of_date.isoformat())
        return dg.MaterializeResult(metadata={"version": build.id, "base": build.base.id if build.base else "无",
                                              "store": dg.MetadataValue.path(str(build.store_path))})

    return store_version
