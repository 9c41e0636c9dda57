"""Generation and landing of the synthetic source extracts, then loading them into ``raw``."""

import datetime as dt
import json
from collections.abc import Collection

import dagster as dg

from futuremart.vault import Vault
from ingestion.contracts import EntityContract, load_contracts
from ingestion.landing import land_world
from ingestion.raw_loader import EntityLoad, load_entity
from ingestion.truth import write_truth
from ingestion.world import GENERATOR_VERSION, generate_world
from orchestration.partitions import DAILY, SINGLE_RUN, check_calendar, partition_dates
from orchestration.resources import FutureMartResource

OWNER = "team:data-platform"
FILES_CONFORM_CHECK = "files_conform_to_contract"
RECONCILES_CHECK = "load_reconciles"
WORLD_MANIFEST = "_world.json"


def landing_key(contract: EntityContract) -> dg.AssetKey:
    """Entities read from one landed file (the PIM catalog) share its landing asset."""
    return dg.AssetKey(["landing", contract.landing_name])


def _landed_datasets() -> dict[str, list[EntityContract]]:
    datasets: dict[str, list[EntityContract]] = {}
    for contract in load_contracts():
        datasets.setdefault(contract.landing_name, []).append(contract)
    return datasets


def raw_key(contract: EntityContract) -> dg.AssetKey:
    return dg.AssetKey(["raw", contract.raw_table])


class WorldMismatchError(RuntimeError):
    """The data home already holds a world generated with other settings."""


@dg.multi_asset(
    name="land_source_extracts",
    specs=[
        dg.AssetSpec(
            landing_key(entities[0]),
            description=" ".join(c.description for c in entities)
            + f" Landed as {entities[0].format} under landing/{entities[0].landing_subdir}/dt=*/.",
            group_name="ingestion",
            owners=[OWNER],
            kinds={"python", "file"},
            metadata={
                "contract": f"ingestion/contracts/{entities[0].source_system}.yml",
                "entities": ", ".join(c.entity for c in entities),
                "owner_of_source": entities[0].owner,
            },
        )
        for entities in _landed_datasets().values()
    ]
    + [
        dg.AssetSpec(
            dg.AssetKey(["truth", "ground_truth"]),
            description="Parameters and aggregates planted by the generator, to grade the warehouse against.",
            group_name="ingestion",
            owners=[OWNER],
            kinds={"python", "file"},
        )
    ],
)
def land_source_extracts(context: dg.AssetExecutionContext, futuremart: FutureMartResource):
    """Generate the synthetic retailer for the configured seed and scale and land every extract."""
    settings = futuremart.settings
    manifest_path = settings.landing_dir / WORLD_MANIFEST
    world_id = {
        "generator_version": GENERATOR_VERSION,
        "seed": settings.seed,
        "scale_factor": settings.scale_factor,
        "start_date": settings.start_date.isoformat(),
        "end_date": settings.end_date.isoformat(),
        "dirt_rate": settings.dirt_rate,
    }
    if manifest_path.exists() and json.loads(manifest_path.read_text()) != world_id:
        raise WorldMismatchError(
            f"{settings.landing_dir} holds a world generated with {manifest_path.read_text().strip()}, not "
            f"{world_id}. Mixing them would corrupt the warehouse: point FUTUREMART_HOME at a new folder or "
            "remove the data home (make clean-data)."
        )
    world = generate_world(settings)
    landed = {(e.source_system, e.entity): e for e in land_world(world, settings)}
    truth_files = write_truth(world, settings)
    manifest_path.write_text(json.dumps(world_id, sort_keys=True) + "\n")
    for entities in _landed_datasets().values():
        first = entities[0]
        yield dg.MaterializeResult(
            asset_key=landing_key(first),
            metadata={
                **{f"rows_{c.entity}": landed[(c.source_system, c.entity)].rows for c in entities},
                "files": landed[(first.source_system, first.entity)].files,
                "path": dg.MetadataValue.path(str(settings.landing_dir / first.landing_subdir)),
            },
        )
    yield dg.MaterializeResult(
        asset_key=dg.AssetKey(["truth", "ground_truth"]),
        metadata={"files": ", ".join(truth_files), "path": dg.MetadataValue.path(str(settings.truth_dir))},
    )


def raw_spec(contract: EntityContract) -> dg.AssetSpec:
    """``raw.<system>_<entity>``: events and transactions are partitioned by the landing day, reference data
    is loaded whole."""
    return dg.AssetSpec(
        raw_key(contract),
        deps=[landing_key(contract)],
        description=(
            f"{contract.description} Loaded from landing through the {contract.source_system} contract"
            + (", one daily partition per dt= folder" if contract.partitioned else " (reference data, loaded whole)")
            + f"; rows that break it go to quarantine.{contract.raw_table}, every file to governance.load_audit."
        ),
        group_name="raw",
        owners=[OWNER],
        kinds={"duckdb", "python"},
        partitions_def=DAILY if contract.partitioned else None,
        # The contract's expected freshness: the source exports at least this often.
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=contract.freshness_hours)),
        metadata={"primary_key": ", ".join(contract.primary_key), "source_owner": contract.owner},
    )


def raw_check_specs(contract: EntityContract) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            FILES_CONFORM_CHECK,
            asset=raw_key(contract),
            description="Every file of the run has the columns its contract requires. A file that lacks "
            "one is rejected (left in landing, marked with a .REJECTED.txt beside it, audited) while the "
            "other files load: the check fails with a warning naming file, column and contract.",
        ),
        dg.AssetCheckSpec(
            RECONCILES_CHECK,
            asset=raw_key(contract),
            blocking=True,
            description="Every file of the run reconciles: rows in = rows loaded + rows quarantined + rows of "
            "erased customers dropped (governance.erasure_register); a rejected file's rows are all quarantined.",
        ),
    ]


def load_results(
    contract: EntityContract,
    result: EntityLoad,
    dates: tuple[dt.date, dt.date] | None,
    total_rows: int,
    checks: Collection[str] = (FILES_CONFORM_CHECK, RECONCILES_CHECK),
):
    """The materialization of one raw table and those of its two checks named in ``checks`` (the ones the run
    selected: the UI lets a run select a table without its checks), from its load."""
    key = raw_key(contract)
    statuses: dict[str, int] = {}
    for f in result.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    loaded = [f for f in result.files if f.status == "loaded"]
    # A rejected file reconciles too: its records are all in quarantine (reason file_rejected).
    read = loaded + result.rejected
    unreconciled = [f.file for f in read if f.rows_in != f.rows_loaded + f.rows_quarantined + f.rows_erased]
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            "partitions": f"{dates[0]}..{dates[1]}" if dates else "all (reference data)",
            "files_seen": len(result.files),
            "files_by_status": json.dumps(statuses, sort_keys=True),
            "rows_in": sum(f.rows_in for f in read),
            "rows_loaded": result.total("rows_loaded"),
            "rows_quarantined": result.total("rows_quarantined"),
            "rows_erased": result.total("rows_erased"),
            "dagster/row_count": total_rows,
            "reconciled": not unreconciled,
            "columns_added": ", ".join(sorted({c for f in loaded for c in f.columns_added})) or "none",
        },
    )
    if FILES_CONFORM_CHECK in checks:
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=FILES_CONFORM_CHECK,
            passed=not result.rejected,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "files_rejected": len(result.rejected),
                "rows_in_rejected_files": sum(f.rows_in for f in result.rejected),
                "messages": dg.MetadataValue.md("\n".join(f"- {f.message}" for f in result.rejected) or "none"),
            },
        )
    if RECONCILES_CHECK in checks:
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=RECONCILES_CHECK,
            passed=not unreconciled,
            metadata={
                "files_loaded": len(loaded),
                "files_rejected": len(result.rejected),
                "unreconciled_files": ", ".join(unreconciled) or "none",
            },
        )


def build_raw_loads(name: str, contracts: list[EntityContract], partitioned: bool) -> dg.AssetsDefinition:
    """One step loading the landed files of several entities into their ``raw`` tables through their contracts.

    Partitioned (events and transactions): a run loads the files of its partitions (one day from the schedule
    or the sensor, a range in a backfill, all of them in a full build); reference data loads every landed
    file. Files already loaded are skipped. A run that selects some of the tables (the sensor selects the one
    whose file landed) loads only those.

    One step and one warehouse connection for all of them rather than one per table: each step opened the
    warehouse and checkpointed it on close (25 checkpoints of the whole file a night).
    """

    @dg.multi_asset(
        name=name,
        specs=[raw_spec(c) for c in contracts],
        check_specs=[spec for c in contracts for spec in raw_check_specs(c)],
        can_subset=True,
        pool="duckdb_writer",
        partitions_def=DAILY if partitioned else None,
        backfill_policy=SINGLE_RUN if partitioned else None,
    )
    def _load(context: dg.AssetExecutionContext, futuremart: FutureMartResource):
        settings = futuremart.settings
        check_calendar(settings)
        dates = partition_dates(context) if partitioned else None
        selected = [c for c in contracts if raw_key(c) in context.selected_asset_keys]
        vault = Vault.from_settings(settings)
        with futuremart.warehouse() as con:
            for contract in selected:
                result = load_entity(
                    con, contract, settings.landing_dir, run_id=context.run_id, dates=dates, strict=False, vault=vault
                )
                total_rows = con.execute(f"select count(*) from raw.{contract.raw_table}").fetchone()[0]
                for rejected in result.rejected:
                    context.log.warning(rejected.message)
                checks = {k.name for k in context.selected_asset_check_keys if k.asset_key == raw_key(contract)}
                yield from load_results(contract, result, dates, total_rows, checks)

    return _load


raw_assets = [
    build_raw_loads("load_raw_events", [c for c in load_contracts() if c.partitioned], partitioned=True),
    build_raw_loads("load_raw_reference", [c for c in load_contracts() if not c.partitioned], partitioned=False),
]

# Written by every raw load (one row per landed file per attempt), read by dbt's governance models.
load_audit = dg.AssetSpec(
    dg.AssetKey(["governance", "load_audit"]),
    deps=[raw_key(c) for c in load_contracts()],
    description="governance.load_audit: one row per landed file per load attempt (run id, source, entity, "
    "partition, file, content hash, status, rows in / loaded / quarantined, load time), written by the raw "
    "loads; rows_in = rows_loaded + rows_quarantined for every load.",
    group_name="governance",
    owners=[OWNER],
    kinds={"duckdb"},
)
