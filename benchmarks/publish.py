"""Benchmark of publishing the analysts' copy from an existing warehouse (build one first: ``futuremart run``).

Records figures (never asserts): seconds per publish (stage, verify, rename), size of the copy against the
warehouse, tables and rows, and the seconds and values of one leak scan of the copy (the scan every
non-steward role copy passes before its rename). Publishes to ``$FUTUREMART_HOME/bench/analyst.duckdb`` so
the real published copy is untouched. Run: ``FUTUREMART_HOME=... python -m benchmarks.publish --repeat 3``;
results are appended to ``$FUTUREMART_HOME/bench/publish.json`` and printed.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time

import typer

from futuremart.privacy import scan_for_clear_pii
from futuremart.publish import ANALYST_COPY, ANALYST_SCHEMAS, ANALYST_TABLES, publish_tables
from futuremart.settings import Settings
from futuremart.vault import Vault

app = typer.Typer(add_completion=False)


@app.command()
def main(repeat: int = typer.Option(3, min=1, help="Publishes to time; the median is reported.")) -> None:
    settings = Settings.from_env()
    target = settings.home / "bench" / ANALYST_COPY
    seconds = []
    for i in range(repeat):
        result = publish_tables(
            settings.warehouse_path, target, schemas=ANALYST_SCHEMAS, tables=ANALYST_TABLES, tag=f"bench{i}"
        )
        seconds.append(result.seconds)
    started = time.perf_counter()
    scan = scan_for_clear_pii(target, vault=Vault.from_settings(settings))
    scan_seconds = time.perf_counter() - started
    figures = {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale_factor": settings.scale_factor,
        "warehouse_bytes": settings.warehouse_path.stat().st_size,
        "copy_bytes": result.bytes,
        "tables": len(result.tables),
        "rows": result.rows,
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds_all": [round(s, 2) for s in seconds],
        "leak_scan_seconds": round(scan_seconds, 2),
        "leak_scan_values": scan.values_scanned,
        "leak_scan_hits": scan.hit_count,
    }
    out = settings.home / "bench" / "publish.json"
    history = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*history, figures], indent=2) + "\n")
    target.unlink()
    typer.echo(json.dumps(figures, indent=2))
    typer.echo(f"appended to {out}")


if __name__ == "__main__":
    app()
