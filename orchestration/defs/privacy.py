"""The erasure job: `erase_customers` with the request as run config (logic in ``futuremart/erasure.py``).

An op job, not an asset: an erasure acts on the data a request names, it produces no data of its own. Launch
it from the UI's launchpad or ``dagster job execute -j erase_customers -c request.yaml`` with::

    ops:
      apply_erasure_request:
        config: {customer_ids: [C0000181], requested_by: "steward: ticket 123", reason: "GDPR art. 17"}
"""

import datetime as dt

import dagster as dg

from futuremart.erasure import erase_customers
from futuremart.retention import purge_expired
from orchestration.resources import FutureMartResource


class ErasureRequest(dg.Config):
    """One erasure request: the customers, who asked and why; rebuild and republish as the CLI does."""

    customer_ids: list[str]
    requested_by: str
    reason: str = ""
    rebuild: bool = True
    republish: bool = True


# The op writes the warehouse (and dbt does when rebuilding): it shares the single-writer pool with the loads.
@dg.op(name="apply_erasure_request", pool="duckdb_writer", tags={"kind": "duckdb"})
def erase_customers_op(context: dg.OpExecutionContext, config: ErasureRequest, futuremart: FutureMartResource):
    """Erase the request's customers everywhere and record the proof."""
    proof = erase_customers(
        futuremart.settings,
        config.customer_ids,
        config.requested_by,
        config.reason,
        rebuild=config.rebuild,
        republish=config.republish,
        run_id=context.run_id,
    )
    context.log.info(
        "erasure %s: %d customer(s), %d rows in %d tables",
        proof.erasure_id,
        proof.customers,
        proof.rows,
        len(proof.touched),
    )
    context.add_output_metadata(
        {
            "erasure_id": proof.erasure_id,
            "request_hash": proof.request_hash,
            "rows": proof.rows,
            "touched": dg.MetadataValue.json({f"{t.action} {t.table}": t.rows for t in proof.touched}),
        }
    )
    return proof.erasure_id


@dg.job(
    name="erase_customers",
    description="GDPR/CCPA erasure of the customers in the run config (ops.apply_erasure_request.config.customer_ids): "
    "raw, quarantine, vault, marts, ML, published copies; registered against rebuilds; proof in governance.",
    executor_def=dg.in_process_executor,
)
def erase_customers_job():
    erase_customers_op()


class PurgeRequest(dg.Config):
    """The day the retention windows count back from (YYYY-MM-DD); empty: the last day of the calendar."""

    as_of: str = ""


@dg.op(name="apply_retention", pool="duckdb_writer", tags={"kind": "duckdb"})
def purge_expired_events_op(context: dg.OpExecutionContext, config: PurgeRequest, futuremart: FutureMartResource):
    """Delete clickstream and security events older than their retention window (audited per table)."""
    as_of = dt.date.fromisoformat(config.as_of) if config.as_of else None
    purged = purge_expired(futuremart.settings, as_of, actor="dagster", run_id=context.run_id)
    context.add_output_metadata({"rows_deleted": dg.MetadataValue.json({p.table: p.rows for p in purged})})
    return sum(p.rows for p in purged)


@dg.job(
    name="purge_expired_events",
    description="Retention: delete clickstream and security events older than FUTUREMART_CLICKSTREAM_RETENTION_DAYS "
    "/ FUTUREMART_SECURITY_RETENTION_DAYS from raw, fct_web_events and the vault; one audit row per table.",
    executor_def=dg.in_process_executor,
)
def purge_expired_events_job():
    purge_expired_events_op()
