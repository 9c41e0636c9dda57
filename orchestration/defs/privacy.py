"""The erasure job: `erase_customers` with the request as run config (logic in ``futuremart/erasure.py``).

An op job, not an asset: an erasure acts on the data a request names, it produces no data of its own. Launch
it from the UI's launchpad or ``dagster job execute -j erase_customers -c request.yaml`` with::

    ops:
      apply_erasure_request:
        config: {customer_ids: [C0000181], requested_by: "steward: ticket 123", reason: "GDPR art. 17"}
"""

import dagster as dg

from futuremart.erasure import erase_customers
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
