"""Dagster resources: the platform settings and the warehouse connection, resolved at run time.

Fields left unset fall back to the environment (see ``futuremart.settings.Settings``), so the code location
reads nothing at import and tests can point a whole run at a temporary data home.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from futuremart.settings import Settings


class FutureMartResource(dg.ConfigurableResource):
    """Platform settings for a run; every field overrides the matching ``FUTUREMART_*`` variable."""

    home: str | None = None
    seed: int | None = None
    scale_factor: float | None = None
    start_date: str | None = None
    end_date: str | None = None
    dirt_rate: float | None = None

    @property
    def settings(self) -> Settings:
        return Settings.from_env().with_overrides(
            home=self.home,
            seed=self.seed,
            scale_factor=self.scale_factor,
            start_date=dt.date.fromisoformat(self.start_date) if self.start_date else None,
            end_date=dt.date.fromisoformat(self.end_date) if self.end_date else None,
            dirt_rate=self.dirt_rate,
        )

    @contextlib.contextmanager
    def warehouse(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the settings' warehouse file (created with its folder when missing)."""
        settings = self.settings
        path = settings.warehouse_path
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        if read_only:
            with duckdb.connect(str(path), read_only=True, config=settings.duckdb_config()) as con:
                yield con
        else:
            resource = DuckDBResource(database=str(path), connection_config={"threads": 2, **settings.duckdb_config()})
            with resource.get_connection() as con:
                con.execute("set enable_progress_bar = false")  # keeps run logs readable
                yield con


@contextlib.contextmanager
def scoped_environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block (for a subprocess such as dbt)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
