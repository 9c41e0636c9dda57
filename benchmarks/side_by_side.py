"""``make bench``: the platform measured side by side with the plain way of doing the same work, per scale.

For each scale factor, in one run, five comparisons (each one records; nothing is asserted):

1. ``generation``: the vectorized world's rows per second against a plain per-row Faker loop producing the
   orders table (``benchmarks.generation.run``, reused as is);
2. ``pipeline``: the whole pipeline through Dagster (``futuremart run``: the ``materialize_everything`` job
   in-process, on an on-disk instance, as ``make run``) against the same steps called directly
   (``benchmarks.direct_pipeline``), each into a data home of its own;
3. ``dbt``: ``dbt build --full-refresh`` against the same compiled SQL run with plain DuckDB
   (``benchmarks.compiled_sql``), each on a copy of the warehouse step 2 built (the same file, restored in
   between); ``dbt parse`` and ``dbt compile`` are timed apart and left out of the ratio;
4. ``incremental``: a new day's ``daily_refresh`` run against the full build of the days before
   (``benchmarks.pipeline.bench_daily_runs``, reused as is);
5. ``peak_rss``: the peak resident memory of each of the above.

Every measured step runs as a child process of this one, so each is timed from a cold interpreter and its
figures cover its whole process tree: wall seconds; CPU seconds (user + system) of the child and every
descendant it waited for (dbt), from ``os.wait4``; the largest single process's peak RSS (``ru_maxrss``,
same source); and the peak of the tree's summed RSS, sampled from ``/proc`` every 0.2 s (Linux; psutil is
not installed). CPU seconds are the steadier figure on a shared machine; wall seconds are what a user waits.

Results: ``$FUTUREMART_HOME/bench/bench.json`` (every figure) and ``bench.md`` (the table, figures next to
their targets; also printed). Work folders go under ``$FUTUREMART_HOME/bench/work/`` and are removed after
each scale (``--keep`` keeps them). The data home's own warehouse is never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import typer

from futuremart.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

PYTHON = sys.executable
DBT = str(Path(sys.executable).with_name("dbt"))
MIB = 1024 * 1024
PARTS = ("generation", "pipeline", "dbt", "incremental", "engines")
SAMPLE_SECONDS = 0.2
WAREHOUSE = Path("warehouse") / "futuremart.duckdb"  # under a data home


# -- measuring a child process tree --------------------------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # The command name (field 2) may hold spaces and parentheses: the fields after the last ')'.
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """Summed resident memory of ``root`` and all its descendants now (0 once it has ended)."""
    children, pending, total = _children_by_parent(), [root], 0
    page = os.sysconf("SC_PAGE_SIZE")
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                total += int(statm.read().split()[1]) * page
        except OSError:
            continue
        pending.extend(children.get(pid, ()))
    return total


@dataclass(frozen=True)
class Measured:
    """One child process tree: wall and CPU seconds, peak RSS (largest process; sampled tree), exit code."""

    wall_s: float
    cpu_s: float
    peak_rss_process_mib: float
    peak_rss_tree_mib: float
    returncode: int

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def measure(cmd: Sequence[str], *, env: Mapping[str, str], cwd: Path, stdout: Path, stderr: Path) -> Measured:
    """Run ``cmd`` to completion and measure its whole process tree (see the module docstring)."""
    peak = 0
    done = threading.Event()
    started = time.perf_counter()
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        child = subprocess.Popen(list(cmd), env=dict(env), cwd=cwd, stdout=out, stderr=err)

        def sample() -> None:
            nonlocal peak
            while not done.wait(SAMPLE_SECONDS):
                peak = max(peak, tree_rss_bytes(child.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4 gives this child's own rusage, its waited-for descendants included (dbt under the pipeline).
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        wall_s=round(wall, 2),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        peak_rss_process_mib=round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        peak_rss_tree_mib=round(max(peak, usage.ru_maxrss * 1024) / MIB, 1),
        returncode=child.returncode,
    )


# -- the comparisons -----------------------------------------------------------------------------------------


# Settings the caller's environment hands to every measured child: the keys, and how much of the machine a
# run may take (FUTUREMART_DUCKDB_MEMORY_LIMIT bounds the memory figure). The rest (data home, scale, seed,
# a run window) is the bench's own.
PASSED_SETTINGS = (
    "FUTUREMART_PII_KEY",
    "FUTUREMART_PII_KEY_FILE",
    "FUTUREMART_VAULT_KEY",
    "FUTUREMART_VAULT_KEY_FILE",
    "FUTUREMART_DUCKDB_MEMORY_LIMIT",
    "FUTUREMART_DBT_THREADS",
    "FUTUREMART_LANDING_THREADS",
    "FUTUREMART_LOAD_CHUNK_ROWS",
    "FUTUREMART_GX_BATCH_ROWS",
)


@dataclass(frozen=True)
class Phase:
    """Where a scale's run works and how its children are started."""

    root: Path
    scale: float
    seed: int

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FUTUREMART_", "DAGSTER_HOME"))}
        # The child imports this checkout's packages first, whatever the editable install points at.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        env.update({k: os.environ[k] for k in PASSED_SETTINGS if k in os.environ})
        env |= {"FUTUREMART_HOME": str(home), "FUTUREMART_SCALE": str(self.scale), "FUTUREMART_SEED": str(self.seed)}
        return env | extra

    def run(self, name: str, cmd: Sequence[str], home: Path, **extra: str) -> tuple[Measured, str]:
        """Measure ``cmd``; return the figures and its stdout. Output kept in ``<root>/logs/<name>.*``."""
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out, err = logs / f"{name}.out", logs / f"{name}.err"
        typer.echo(f"  {name}: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}", err=True)
        measured = measure(cmd, env=self.env(home, **extra), cwd=PROJECT_ROOT, stdout=out, stderr=err)
        verdict = "ok" if measured.ok else f"FAILED (exit {measured.returncode}, see {err})"
        typer.echo(
            f"    {measured.wall_s}s wall, {measured.cpu_s}s CPU, {measured.peak_rss_tree_mib} MiB: {verdict}", err=True
        )
        return measured, out.read_text(errors="replace")


def _last_json(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator > 0 else None


def bench_generation(phase: Phase, faker_rows: int) -> dict[str, Any]:
    out = phase.root / "generation.json"
    cmd = [
        PYTHON,
        "-m",
        "benchmarks.side_by_side",
        "generation-phase",
        "--faker-rows",
        str(faker_rows),
        "--out",
        str(out),
    ]
    measured, _ = phase.run("generation", cmd, phase.root)
    figures = json.loads(out.read_text()) if measured.ok else {}
    return {"process": asdict(measured), **figures}


def bench_pipeline(phase: Phase) -> dict[str, Any]:
    from orchestration.storage import project_instance_yaml  # imports Dagster: only for this part

    dagster_home, direct_home = phase.root / "dagster", phase.root / "direct"
    for home in (dagster_home, direct_home):  # both build from nothing (a kept home would load nothing new)
        shutil.rmtree(home, ignore_errors=True)
    instance = dagster_home / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    # The repository's instance (offline, the event log of orchestration/storage.py), stored in the phase's home.
    (instance / "dagster.yaml").write_text(project_instance_yaml(instance))
    # `futuremart run` as `make run` starts it: an on-disk instance (DAGSTER_HOME), every asset and check.
    dagster, _ = phase.run(
        "pipeline_dagster", [PYTHON, "-m", "futuremart.cli", "run"], dagster_home, DAGSTER_HOME=str(instance)
    )
    direct, out = phase.run("pipeline_direct", [PYTHON, "-m", "benchmarks.direct_pipeline"], direct_home)
    return {
        "dagster": asdict(dagster),
        "direct": asdict(direct) | {"steps": _last_json(out) if direct.ok else None},
        "overhead_wall": _ratio(dagster.wall_s, direct.wall_s) if dagster.ok and direct.ok else None,
        "overhead_cpu": _ratio(dagster.cpu_s, direct.cpu_s) if dagster.ok and direct.ok else None,
    }


def _dbt(*args: str, target: Path) -> list[str]:
    return [DBT, *args, "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(target / "logs")]  # fmt: skip


def mart_checksums(warehouse: Path) -> dict[str, list[Any]]:
    """Row count and an order-independent content checksum of every mart table."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()
        ]
        return {
            n: list(
                con.execute(f'select count(*), coalesce(sum(hash(t)), 0)::varchar from marts."{n}" as t').fetchone()
            )
            for n in sorted(names)
        }


def bench_dbt(phase: Phase, source: Path) -> dict[str, Any]:
    """``dbt build --full-refresh`` vs the compiled SQL, each on a fresh copy of ``source`` at the same path."""
    work = phase.root / "dbt"
    warehouse, target = work / "futuremart.duckdb", work / "target"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, warehouse)
    # dbt keeps a partial parse only for the same profile (the warehouse path is part of it): parse once here so
    # both the build and the compile start warm, as the pipeline's later dbt invocations do.
    parse, _ = phase.run("dbt_parse", _dbt("parse", target=target), work, FUTUREMART_WAREHOUSE_PATH=str(warehouse))
    build, _ = phase.run(
        "dbt_build", _dbt("build", "--full-refresh", target=target), work, FUTUREMART_WAREHOUSE_PATH=str(warehouse)
    )
    built = mart_checksums(warehouse) if build.ok else {}
    run_results = work / "build_run_results.json"  # the unit tests' compiled SQL (dbt compile has none)
    if build.ok:
        shutil.copyfile(target / "run_results.json", run_results)
    shutil.copyfile(source, warehouse)
    compile_, _ = phase.run(
        "dbt_compile", _dbt("compile", "--full-refresh", target=target), work, FUTUREMART_WAREHOUSE_PATH=str(warehouse)
    )
    manifest = target / "manifest.json"
    cmd = [PYTHON, "-m", "benchmarks.compiled_sql", "--warehouse", str(warehouse), "--manifest", str(manifest)]
    cmd += ["--run-results", str(run_results)] if run_results.exists() else []
    sql, out = phase.run("compiled_sql", cmd, work)
    direct = mart_checksums(warehouse) if sql.ok else {}
    ok = build.ok and sql.ok
    return {
        "parse": asdict(parse),
        "build": asdict(build),
        "compile": asdict(compile_),
        "compiled_sql": asdict(sql) | {"figures": _last_json(out) if sql.ok else None},
        # Same tables, same rows, same content: the two ran the same SQL.
        "marts_identical": ok and built == direct,
        "marts_same_row_counts": ok and {k: v[0] for k, v in built.items()} == {k: v[0] for k, v in direct.items()},
        "ratio_wall": _ratio(build.wall_s, sql.wall_s) if ok else None,
        "ratio_cpu": _ratio(build.cpu_s, sql.cpu_s) if ok else None,
    }


def spark_missing() -> str | None:
    """Why this machine cannot build on Spark (pyspark and dbt-spark: ``make setup-spark``, which also
    installs Java), or None when it can."""
    import importlib.util

    def importable(module: str) -> bool:
        try:
            return importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            return False

    missing = [
        name for name, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark")) if not importable(module)
    ]
    if shutil.which("java") is None:
        missing.append("java")
    return f"not installed: {', '.join(missing)} (make setup-spark)" if missing else None


def bench_engines(phase: Phase, source: Path) -> dict[str, Any]:
    """The dbt project on DuckDB and on Spark from one raw layer, then parity (benchmarks/engines.py), on a
    copy of ``source``; skipped, with the reason, on a machine without the Spark extra."""
    if reason := spark_missing():
        print(f"  engines: skipped, Spark {reason}", flush=True)
        return {"skipped": f"Spark {reason}"}
    home = phase.root / "engines"
    (home / "warehouse").mkdir(parents=True)
    shutil.copyfile(source, home / WAREHOUSE)
    measured, out = phase.run("engines", [PYTHON, "-m", "benchmarks.engines", "--in-place"], home)
    return {"process": asdict(measured), **((_last_json(out) or {}) if measured.ok else {})}


def bench_incremental(phase: Phase, landing: Path) -> dict[str, Any]:
    home = phase.root / "daily"
    shutil.copytree(landing, home / "landing")
    out = phase.root / "incremental.json"
    cmd = [PYTHON, "-m", "benchmarks.side_by_side", "incremental-phase", "--out", str(out)]
    measured, _ = phase.run("incremental", cmd, home)
    return {"process": asdict(measured), **(json.loads(out.read_text()) if measured.ok else {})}


def bench_scale(
    scale: float,
    seed: int,
    work: Path,
    *,
    faker_rows: int,
    parts: Iterable[str] = PARTS,
    keep: bool = False,
    reuse: bool = False,
    save: Callable[[dict[str, Any]], None] = lambda result: None,
) -> dict[str, Any]:
    """Every comparison of ``parts`` at one scale factor; returns the figures (see the module docstring) and
    hands them to ``save`` after each part, so a long run that dies keeps what it measured.

    ``reuse``: keep the scale's work folder from an earlier ``--keep`` run and, unless ``pipeline`` is asked
    for, take the dbt and incremental inputs from the data homes it built instead of building them again."""
    parts = set(parts)
    phase = Phase(work / f"sf{scale:g}", scale, seed)
    kept = [phase.root / name for name in ("dagster", "direct") if (phase.root / name / WAREHOUSE).exists()]
    if not reuse:
        shutil.rmtree(phase.root, ignore_errors=True)
        kept = []
    for folder in ("dbt", "daily", "engines"):
        shutil.rmtree(phase.root / folder, ignore_errors=True)
    phase.root.mkdir(parents=True, exist_ok=True)
    typer.echo(f"scale factor {scale:g} (seed {seed}), working in {phase.root}", err=True)
    result: dict[str, Any] = {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale_factor": scale,
        "seed": seed,
        "cpus": os.cpu_count(),
        "load_average_at_start": round(os.getloadavg()[0], 1),
        # What bounds the memory figure, as the children saw it (Settings' defaults when unset).
        "resource_settings": {
            name: getattr(Settings.from_env(), name)
            for name in ("duckdb_memory_limit", "dbt_threads", "load_chunk_rows", "gx_batch_rows")
        },
    }

    def done(part: str, figures: dict[str, Any]) -> None:
        result[part] = figures
        result["load_average_at_end"] = round(os.getloadavg()[0], 1)
        result["peak_rss_tree_mib"] = peak_rss(result)
        save(result)

    try:
        if "generation" in parts:
            done("generation", bench_generation(phase, faker_rows))
        if "pipeline" in parts or (parts & {"dbt", "incremental"} and not kept):
            done("pipeline", bench_pipeline(phase))
            pipeline = result["pipeline"]
            kept = [phase.root / n for n in ("dagster", "direct") if pipeline[n]["returncode"] == 0]
        if kept:
            if "dbt" in parts:
                done("dbt", bench_dbt(phase, kept[0] / WAREHOUSE))
                shutil.rmtree(phase.root / "dbt", ignore_errors=True)
            if "incremental" in parts:
                done("incremental", bench_incremental(phase, kept[0] / "landing"))
            if "engines" in parts:
                done("engines", bench_engines(phase, kept[0] / WAREHOUSE))
                shutil.rmtree(phase.root / "engines", ignore_errors=True)
    finally:
        if not keep:
            for folder in ("dagster", "direct", "dbt", "daily", "engines"):
                shutil.rmtree(phase.root / folder, ignore_errors=True)
    result["load_average_at_end"] = round(os.getloadavg()[0], 1)
    result["peak_rss_tree_mib"] = peak_rss(result)
    return result


def peak_rss(result: Mapping[str, Any]) -> dict[str, float]:
    """Peak summed RSS of every measured process tree of a scale's result, by step, and their maximum."""
    found: dict[str, float] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            if "peak_rss_tree_mib" in node and "returncode" in node:
                found[path] = node["peak_rss_tree_mib"]
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)

    walk({k: v for k, v in result.items() if k != "peak_rss_tree_mib"}, "")
    return found | ({"max": max(found.values())} if found else {})


# -- the table -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A figure's target: ``value <= limit`` (or ``>=`` when ``at_least``), set for scales ``>= from_scale``
    and ``< below_scale``."""

    limit: float
    at_least: bool = False
    from_scale: float = 0.0
    below_scale: float = float("inf")

    def applies(self, scale: float) -> bool:
        return self.from_scale <= scale < self.below_scale

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        return value >= self.limit if self.at_least else value <= self.limit


SF10 = 10.0
# The targets: SF1's apply below SF10, SF10's from SF10 up.
TARGETS: dict[str, tuple[Target, ...]] = {
    "generation": (Target(50, at_least=True),),
    "overhead": (Target(1.6, below_scale=SF10), Target(1.4, from_scale=SF10)),
    "dbt": (Target(3.8, below_scale=SF10), Target(1.7, from_scale=SF10)),
    "incremental": (Target(0.15, from_scale=SF10),),
    "rss_gib": (Target(4.0, from_scale=SF10),),
}


def _target(name: str, scale: float) -> Target | None:
    return next((t for t in TARGETS[name] if t.applies(scale)), None)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    elif isinstance(value, int):
        value = f"{value:,}"
    return f"{value}{unit}"


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def table_rows(result: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, wall, CPU, target, met) rows of one scale's result; a part that did not run shows dashes."""
    scale = result["scale_factor"]
    rows: list[tuple[str, str, str, str, str]] = []

    def judged(name: str, label: str, wall: Any, cpu: Any, unit: str = "x", shown: str = "") -> None:
        target = _target(name, scale)
        if target is None:
            spec, met = "set at SF10" if name in ("incremental", "rss_gib") else "—", "—"
        else:
            spec = f"{'≥' if target.at_least else '≤'} {_fmt(target.limit)}{unit}"
            verdicts = [target.met(v) for v in (wall, cpu) if v is not None]
            met = "—" if not verdicts else ("yes" if all(verdicts) else "no")
        rows.append((label, shown or _fmt(wall, unit), _fmt(cpu, unit), spec, met))

    def plain(label: str, wall: Any, cpu: Any, unit: str = " s") -> None:
        rows.append((label, _fmt(wall, unit), _fmt(cpu, unit), "", ""))

    def process(label: str, part: Mapping[str, Any], step: str) -> None:
        figures = _get(part, step) or {}
        if figures.get("returncode", 0) != 0:
            rows.append((label, "failed", "failed", "", ""))
        else:
            plain(label, figures.get("wall_s"), figures.get("cpu_s"))

    g = result.get("generation", {})
    plain("generation: world rows", g.get("rows_all_tables"), None, "")
    plain("generation: generate (world)", g.get("generate_seconds"), g.get("generate_cpu_seconds"))
    plain(f"Faker loop: {_fmt(g.get('faker_rows'))} orders", g.get("faker_seconds"), g.get("faker_cpu_seconds"))
    judged("generation", "generation speed-up, all rows", g.get("speedup_all_rows_wall"), g.get("speedup_all_rows_cpu"))
    judged(
        "generation",
        "generation speed-up, without stock snapshots",
        g.get("speedup_without_snapshots_wall"),
        g.get("speedup_without_snapshots_cpu"),
    )
    p = result.get("pipeline", {})
    process("pipeline through Dagster (futuremart run)", p, "dagster")
    process("pipeline called directly", p, "direct")
    judged("overhead", "orchestration overhead (Dagster / direct)", p.get("overhead_wall"), p.get("overhead_cpu"))
    d = result.get("dbt", {})
    process("dbt build --full-refresh", d, "build")
    process("same compiled SQL in DuckDB", d, "compiled_sql")
    process("(dbt compile, not in the ratio)", d, "compile")
    judged("dbt", "dbt overhead (dbt build / compiled SQL)", d.get("ratio_wall"), d.get("ratio_cpu"))
    i = result.get("incremental", {})
    plain("full build, every day but the last", _get(i, "full_build.wall_s"), _get(i, "full_build.cpu_s"))
    plain("new day's run", _get(i, "new_day.wall_s"), _get(i, "new_day.cpu_s"))
    wall_share, cpu_share = i.get("new_day_share_of_full_wall"), i.get("new_day_share_of_full_cpu")
    judged("incremental", "new day / full build", wall_share, cpu_share, unit="")
    e = result.get("engines", {})
    if e.get("skipped"):
        rows.append(("DuckDB vs Spark builds", e["skipped"], "—", "", "—"))
    if _get(e, "spark.returncode"):
        rows.append(
            ("DuckDB vs Spark builds", f"the Spark build failed (exit {e['spark']['returncode']})", "—", "", "—")
        )
    plain("dbt build, whole project, on DuckDB", _get(e, "duckdb.seconds"), None)
    plain("raw layer to Parquet, then dbt build on Spark", _get(e, "spark.seconds"), None)
    plain("Spark / DuckDB build time", e.get("spark_over_duckdb"), None, "x")
    parity = e.get("parity")
    plain(
        "parity: marts with a difference",
        len({d["table"] for d in parity["differences"]}) if parity else None,
        None,
        "",
    )
    peak = (result.get("peak_rss_tree_mib") or {}).get("max")
    gib = round(peak / 1024, 2) if peak is not None else None
    judged("rss_gib", "peak RSS, process tree (GiB; largest step)", gib, None, unit=" GiB")
    return rows


def render_markdown(results: Sequence[Mapping[str, Any]]) -> str:
    """The readable table of a bench run: one section per scale, each figure next to its target."""
    lines = ["# make bench", ""]
    for result in results:
        lines += [
            f"## SF{result['scale_factor']:g} (seed {result['seed']}, {result['recorded_at']}, "
            f"{result['cpus']} CPUs, load average {result['load_average_at_start']} at start, "
            f"{result.get('load_average_at_end', '—')} at end)",
            "",
            "Settings: "
            + ", ".join(f"{k} {v}" for k, v in result.get("resource_settings", {}).items())
            + " (FUTUREMART_DUCKDB_MEMORY_LIMIT etc.)",
            "",
            "| figure | wall | CPU | target | met |",
            "|---|---:|---:|---|---|",
        ]
        lines += [f"| {' | '.join(row)} |" for row in table_rows(result)]
        runs = {str(result[f"{p}_recorded"]) for p in PARTS if f"{p}_recorded" in result}
        if len(runs) > 1:  # parts merged from several runs (--reuse)
            lines.append("")
            lines.append(
                "Parts recorded in separate runs: "
                + "; ".join(
                    f"{p} at {result[f'{p}_recorded']['recorded_at']} (load average "
                    + " to ".join(str(x) for x in result[f"{p}_recorded"]["load_average"])
                    + ")"
                    for p in PARTS
                    if f"{p}_recorded" in result
                )
            )
        d = result.get("dbt", {})
        if d:
            lines.append("")
            compared = d.get("ratio_cpu") is not None
            same = ("yes" if d.get("marts_identical") else "no") if compared else "not compared (a step failed)"
            lines.append(f"dbt and the compiled SQL built identical marts: {same}")
        steps = {k: v for k, v in (result.get("peak_rss_tree_mib") or {}).items() if k != "max"}
        if steps:
            lines += [
                "",
                "Peak RSS per step (MiB, process tree): " + ", ".join(f"{k} {_fmt(v)}" for k, v in steps.items()),
            ]
        lines.append("")
    return "\n".join(lines)


def write_results(results: Sequence[Mapping[str, Any]], out_dir: Path) -> tuple[Path, Path]:
    """Write ``bench.json`` (every figure) and ``bench.md`` (the table) to ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "bench.json", out_dir / "bench.md"
    json_path.write_text(json.dumps(list(results), indent=2) + "\n")
    md_path.write_text(render_markdown(results))
    return json_path, md_path


def merge(previous: Sequence[Mapping[str, Any]], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``previous`` results with the parts of ``new`` in place of the same scale's; parts ``new`` did not run
    stay as they were. Each part keeps when it was recorded and the load average around it
    (``<part>_recorded``), since merged parts may come from different runs."""
    out = [dict(r) for r in previous if r["scale_factor"] != new["scale_factor"]]
    old = next((dict(r) for r in previous if r["scale_factor"] == new["scale_factor"]), None)
    merged = dict(new) if old is None or old.get("recorded_at") == new["recorded_at"] else old
    when = {
        "recorded_at": new["recorded_at"],
        "load_average": [new["load_average_at_start"], new.get("load_average_at_end")],
    }
    for part in PARTS:
        if part in new:
            merged[part] = new[part]
            merged[f"{part}_recorded"] = when
        elif part in merged and f"{part}_recorded" not in merged:
            merged[f"{part}_recorded"] = {
                "recorded_at": merged["recorded_at"],
                "load_average": [merged["load_average_at_start"], merged.get("load_average_at_end")],
            }
    merged["peak_rss_tree_mib"] = peak_rss(merged)
    return sorted([*out, merged], key=lambda r: r["scale_factor"])


def run_bench(
    scales: Sequence[float],
    settings: Settings,
    *,
    faker_rows: int = 20_000,
    parts: Iterable[str] = PARTS,
    keep: bool = False,
    reuse: bool = False,
) -> tuple[list[dict[str, Any]], Path, Path]:
    """Bench every scale (smallest first) under ``settings.home/bench``; return the results and the files,
    written after every part. Without ``reuse`` the files hold this run alone; with it, this run's parts
    replace the same scale's parts in the files of an earlier run."""
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown bench parts {sorted(unknown)}: choose among {', '.join(PARTS)}")
    out_dir = settings.home / "bench"
    json_path = out_dir / "bench.json"
    results: list[dict[str, Any]] = json.loads(json_path.read_text()) if reuse and json_path.exists() else []

    def save(result: dict[str, Any]) -> None:
        nonlocal results
        results = merge(results, result)
        write_results(results, out_dir)

    for scale in sorted(scales):
        save(
            bench_scale(
                scale,
                settings.seed,
                out_dir / "work",
                faker_rows=faker_rows,
                parts=parts,
                keep=keep or reuse,
                reuse=reuse,
                save=save,
            )
        )
    json_path, md_path = write_results(results, out_dir)
    if not (keep or reuse):
        shutil.rmtree(out_dir / "work", ignore_errors=True)
    return results, json_path, md_path


# -- command line --------------------------------------------------------------------------------------------

app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def run(
    scale: list[float] = typer.Option([1.0, 10.0], "--scale", help="Scale factors (make bench BENCH_SCALES)."),
    faker_rows: int = typer.Option(20_000, help="Rows the per-row Faker loop produces."),
    part: list[str] = typer.Option(list(PARTS), "--part", help=f"Comparisons to run: {', '.join(PARTS)}."),
    keep: bool = typer.Option(False, help="Keep the work folders (data homes, logs) under bench/work/."),
    reuse: bool = typer.Option(False, help="Rerun only --part ... on the work folders a --keep run left; merge."),
) -> None:
    """Run the side-by-side benchmark; write bench.json and bench.md under $FUTUREMART_HOME/bench/."""
    _, json_path, md_path = run_bench(
        scale, Settings.from_env(), faker_rows=faker_rows, parts=part, keep=keep, reuse=reuse
    )
    typer.echo(md_path.read_text())
    typer.echo(f"written: {json_path}, {md_path}")


@app.command("generation-phase", hidden=True)
def generation_phase(faker_rows: int = typer.Option(...), out: Path = typer.Option(...)) -> None:
    """Child of ``run``: the generation figures of benchmarks.generation at the environment's scale."""
    from benchmarks.generation import run as generation_run

    out.write_text(json.dumps(generation_run(Settings.from_env().scale_factor, faker_rows)) + "\n")


@app.command("incremental-phase", hidden=True)
def incremental_phase(out: Path = typer.Option(...)) -> None:
    """Child of ``run``: a full daily_refresh build and a new day's run (benchmarks.pipeline)."""
    from benchmarks.pipeline import bench_daily_runs

    settings = Settings.from_env()
    out.write_text(json.dumps(bench_daily_runs(settings, settings.home)) + "\n")


if __name__ == "__main__":
    app()
