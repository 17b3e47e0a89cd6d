"""raw: every new inbox file becomes a batch (SHA-256 of its bytes); rows are read verbatim."""

import datetime as dt

import dagster as dg

from pipelines import progress
from pipelines.ingest import load_inbox
from pipelines.publish.masking import mask_text
from pipelines.resources import RunSettings, StoreResource


@dg.asset(key_prefix="raw", group_name="ingest", kinds={"duckdb"},
          description="raw.batches, raw.<template>, raw.row_errors: every inbox file once, verbatim, with row errors.")
def batches(context: dg.AssetExecutionContext, store: StoreResource, settings: RunSettings) -> dg.MaterializeResult:
    with store.get().connect() as conn:
        results = load_inbox(conn, settings.inbox_path, loaded_on=dt.date.today(), progress=progress.active())
    new = [r for r in results if r.new]
    # The clerk reads these in the run's summary (raw.inbox_files); here they are the event log's record.
    # Masked: a refusal may quote the file's cells.
    for r in results:
        if r.status in ("rejected", "ignored") or r.reason == "duplicate":
            context.log.warning(mask_text(r.message))
        if r.detail:
            context.log.debug(mask_text(f"{r.file_name}: {r.detail}"))
    return dg.MaterializeResult(metadata={
        "new_batches": len(new),
        "rejected_files": sum(r.status == "rejected" for r in new),
        "rows_read": sum(r.rows_read for r in new),
        "rows_loaded": sum(r.rows_loaded for r in new),
        "rows_rejected": sum(r.rows_rejected for r in new),
    })
