"""Reference data shared with dbt: the generator reads the same seed CSVs that ``dbt seed`` loads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from futuremart.settings import SEEDS_DIR


def read_categories(seeds_dir: Path = SEEDS_DIR) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / "product_categories.csv", dtype={"category_id": str})


def read_regions(seeds_dir: Path = SEEDS_DIR) -> pd.DataFrame:
    return pd.read_csv(seeds_dir / "regions.csv", dtype={"region_code": str})
