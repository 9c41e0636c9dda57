"""The ``futuremart`` command line: generate, run and inspect the warehouse."""

from __future__ import annotations

import os
import time

import typer

from futuremart.settings import Settings, SettingsError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="FutureMart data platform.")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


@app.command()
def generate() -> None:
    """Generate the synthetic retailer and land its extracts (no warehouse work)."""
    from ingestion.landing import land_world
    from ingestion.truth import write_truth
    from ingestion.world import generate_world

    settings = _settings()
    started = time.perf_counter()
    world = generate_world(settings)
    for entity in land_world(world, settings):
        typer.echo(f"{entity.source_system}.{entity.entity}: {entity.rows} rows in {entity.files} files")
    write_truth(world, settings)
    typer.echo(f"landed under {settings.landing_dir} in {time.perf_counter() - started:.1f}s")


@app.command()
def run(
    job: str = typer.Option("materialize_everything", help="Dagster job to execute (or daily_refresh)."),
    first: str = typer.Option(None, "--from", help="First day (YYYY-MM-DD) of the partitions to run; default: all."),
    last: str = typer.Option(None, "--to", help="Last day (YYYY-MM-DD) of the partitions to run; default: all."),
    engine: str = typer.Option(
        None,
        help="duckdb, or spark: then also build every model and test on Spark and check parity "
        "(default: FUTUREMART_ENGINE).",
    ),  # fmt: skip
) -> None:
    """Materialize every asset in-process: generate, land, load raw, dbt build, expectation suites.

    With ``--engine spark`` the run then builds the same dbt project on Spark from the raw layer it loaded
    (``futuremart spark``) and fails unless every Spark model and test passes and the marts match DuckDB's.

    Partitioned assets (raw loads, incremental facts) run for the days --from..--to in one run (a backfill
    of that range); without them, for the whole calendar. With DAGSTER_HOME set (the Makefile sets it to the
    repository root), the run is recorded in the instance that ``make dev`` opens, so it shows in the UI.
    """
    import datetime as dt

    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.partitions import range_tags

    settings = _settings()
    try:
        settings = settings.with_overrides(engine=engine.strip().lower() if engine else None)
    except SettingsError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    try:
        start = dt.date.fromisoformat(first) if first else settings.start_date
        end = dt.date.fromisoformat(last) if last else settings.last_partition_date
    except ValueError as err:
        typer.echo(f"error: --from/--to take a date as YYYY-MM-DD ({err})", err=True)
        raise typer.Exit(2) from None
    if not settings.start_date <= start <= end <= settings.last_partition_date:
        typer.echo(
            f"error: --from {start} --to {end} must lie within {settings.start_date}..{settings.last_partition_date}",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(
        f"data home: {settings.home} (seed {settings.seed}, scale factor {settings.scale_factor}); days {start}..{end}"
    )
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    with instance:  # disposed after the run: the event log's databases are closed, their WAL checkpointed
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={**range_tags(start, end), "futuremart/audited_by": "cli"},
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    from futuremart.audit import record_audit_at, utcnow

    # The daemon's run status sensor records runs it sees; a run executed here is recorded here.
    record_audit_at(
        settings.warehouse_path,
        "run",
        job,
        actor="cli",
        run_id=result.run_id,
        status="success" if result.success else "failure",
        started_at=utcnow() - dt.timedelta(seconds=time.perf_counter() - started),
        details={"from": start.isoformat(), "to": end.isoformat()},
    )
    evaluations = result.get_asset_check_evaluations()
    failed = [e for e in evaluations if not e.passed]
    failed_checks = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in failed if e.severity.value == "ERROR"]
    # Warnings (a rejected landed file, a mart suite's soft bound) are reported, not fatal: the run's data
    # is consistent and the details sit in the check's metadata and governance.load_audit.
    for e in failed:
        if e.severity.value != "ERROR":
            typer.echo(f"warning: check {e.asset_key.to_user_string()}:{e.check_name} failed", err=True)
    elapsed = time.perf_counter() - started
    if not result.success or failed_checks:
        typer.echo(f"run {result.run_id} FAILED after {elapsed:.0f}s; failed checks: {failed_checks}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"run {result.run_id} succeeded in {elapsed:.0f}s: "
        f"{len(result.get_asset_materialization_events())} materializations, "
        f"{len(evaluations) - len(failed)} of {len(evaluations)} checks passed; warehouse {settings.warehouse_path}"
    )
    if settings.engine == "spark":
        _spark_build_and_parity(settings)


def _spark_build_and_parity(settings: Settings) -> None:
    from futuremart.parity import compare_marts
    from futuremart.spark import build_on_spark

    exported, build = build_on_spark(settings)
    typer.echo(f"raw layer exported to {settings.raw_parquet_dir}: {len(exported)} tables")
    if not build.success:
        typer.echo(build.log_tail, err=True)
        typer.echo(f"Spark build FAILED after {build.seconds:.0f}s: {sorted(build.failures)}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"Spark build succeeded in {build.seconds:.0f}s: {build.count('model')} models, {build.count('seed')} seeds, "
        f"{build.count('test')} tests passed (log {settings.home / 'spark' / 'dbt_build.log'})"
    )
    report = compare_marts(settings)
    typer.echo(report.describe())
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def spark() -> None:
    """Build the dbt project on Spark from the warehouse's raw layer, run every test there, then check
    that every mart matches the DuckDB build (row counts and per-column checksums). Needs a warehouse
    that ``futuremart run`` built; Java 17 (``make java``) and the ``spark`` extra."""
    _spark_build_and_parity(_settings())


@app.command()
def erase(
    customer_ids: list[str] = typer.Option(..., "--customer-id", help="Customer to erase (repeat for several)."),
    requested_by: str = typer.Option(..., help="Who asked: the steward, a ticket, the data subject's request id."),
    reason: str = typer.Option("", help="Why (e.g. 'GDPR art. 17 request #123'); kept in the erasure register."),
    rebuild: bool = typer.Option(True, help="Rebuild every dbt model from raw afterwards (--full-refresh)."),
    republish: bool = typer.Option(True, help="Republish every role's file from the cleaned warehouse."),
) -> None:
    """Erase customers (GDPR/CCPA): raw, quarantine, vault, marts, ML and published copies; registered so no
    rebuild brings them back; a proof per table in governance.erasure_proofs. Needs the warehouse to itself."""
    from futuremart.erasure import ErasureError, erase_customers

    settings = _settings()
    try:
        proof = erase_customers(settings, customer_ids, requested_by, reason, rebuild=rebuild, republish=republish)
    except ErasureError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for touched in proof.touched:
        typer.echo(f"{touched.action:>13} {touched.rows:>8} rows  {touched.table}")
    typer.echo(
        f"erasure {proof.erasure_id}: {proof.customers} customer(s), {proof.rows} rows deleted or de-identified; "
        f"request hash {proof.request_hash}; proof in governance.erasure_proofs"
    )


@app.command()
def purge(
    as_of: str = typer.Option(None, help="Day the windows count back from (YYYY-MM-DD); default: the last day."),
) -> None:
    """Delete clickstream and security events older than their retention window (FUTUREMART_*_RETENTION_DAYS),
    with a purge record per table in governance.audit_log."""
    import datetime as dt

    from futuremart.retention import purge_expired

    settings = _settings()
    for purged in purge_expired(settings, dt.date.fromisoformat(as_of) if as_of else None, actor="cli"):
        typer.echo(f"{purged.rows:>8} rows before {purged.cutoff:%Y-%m-%d} deleted from {purged.table}")


@app.command()
def publish(
    roles: list[str] = typer.Option(
        None, "--role", help="Role to republish (repeat for several); default: every role."
    ),
) -> None:
    """Republish the role copies (data/published/) from the current warehouse: the same copy, verification and
    leak scan as the published assets; a copy that fails keeps the previous one and the command exits 1."""
    import uuid

    from futuremart.publish import ROLE_COPIES, LeakFound, PublishError, publish_role
    from futuremart.vault import Vault

    settings = _settings()
    chosen = roles or list(ROLE_COPIES)
    if unknown := sorted(set(chosen) - set(ROLE_COPIES)):
        typer.echo(f"error: unknown role(s) {unknown}: choose among {', '.join(ROLE_COPIES)}", err=True)
        raise typer.Exit(2)
    if not settings.warehouse_path.exists():
        typer.echo(f"error: no warehouse at {settings.warehouse_path}: run `futuremart run` first", err=True)
        raise typer.Exit(2)
    tag = f"cli-{uuid.uuid4().hex[:12]}"
    failed = []
    for role in chosen:
        try:
            result = publish_role(
                settings.warehouse_path,
                settings.published_dir,
                role,
                tag=tag,
                actor="cli",
                vault=Vault.from_settings(settings),
            )
        except LeakFound as leak:
            typer.echo(f"error: {role}: leak scan failed, previous copy kept: {leak}", err=True)
            failed.append(role)
            continue
        except PublishError as err:
            typer.echo(f"error: {role}: {err}", err=True)
            failed.append(role)
            continue
        copy = result.published
        scanned = f", {result.scan.values_scanned:,} values scanned, no leak" if result.scan else ""
        vault = f", vault copy {result.vault_copy.rows:,} rows" if result.vault_copy else ""
        typer.echo(
            f"{role}: {copy.path} ({len(copy.tables)} tables, {copy.rows:,} rows, {copy.bytes:,} bytes"
            f"{scanned}{vault}) in {copy.seconds:.1f}s"
        )
    if failed:
        typer.echo(f"not published: {', '.join(failed)} (their previous copies are unchanged)", err=True)
        raise typer.Exit(1)


@app.command()
def bench(
    scales: list[float] = typer.Option([1.0, 10.0], "--scale", help="Scale factors to measure (repeat)."),
    parts: list[str] = typer.Option(
        None, "--part", help="Comparisons to run (default: all): generation, pipeline, dbt, incremental."
    ),  # fmt: skip
    faker_rows: int = typer.Option(20_000, help="Rows of the per-row Faker loop generation is compared with."),
    keep: bool = typer.Option(False, help="Keep the work folders (data homes, logs) under bench/work/."),
    reuse: bool = typer.Option(False, help="Rerun only --part ... on the work folders a --keep run left; merge."),
) -> None:
    """Measure the platform side by side with the plain way of doing the same work (generation vs Faker,
    Dagster vs direct calls, dbt vs its compiled SQL, a new day vs a full build, peak memory) at each scale;
    write bench/bench.json and bench/bench.md under the data home and print the table. Records, asserts
    nothing; the data home's warehouse is not touched."""
    from benchmarks.side_by_side import PARTS, run_bench

    settings = _settings()
    try:
        _, json_path, md_path = run_bench(
            scales, settings, faker_rows=faker_rows, parts=parts or PARTS, keep=keep, reuse=reuse
        )
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(md_path.read_text())
    typer.echo(f"written: {json_path}, {md_path}")


@app.command()
def status() -> None:
    """Row counts of every warehouse table and the latest loads."""
    import duckdb

    settings = _settings()
    if not settings.warehouse_path.exists():
        typer.echo(f"no warehouse at {settings.warehouse_path}: run `futuremart run` first", err=True)
        raise typer.Exit(1)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            count = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            typer.echo(f"{schema}.{table}: {count}")


if __name__ == "__main__":
    app()
