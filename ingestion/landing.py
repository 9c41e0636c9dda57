"""Land the world as its source systems export it: ``<landing>/<system>/<folder>/dt=YYYY-MM-DD/<file>``.

Writers are deterministic (fixed column order, number formats and partition order), so the same seed and
scale factor give a byte-identical landing zone.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from futuremart.settings import Settings
from ingestion.contracts import EntityContract, get_contract
from ingestion.dirt import DirtInjector
from ingestion.world import World
from ingestion.world.catalog import CHANNEL_PRICE_FACTOR, round_price
from ingestion.world.params import WAREHOUSES


@dataclass(frozen=True)
class LandedEntity:
    source_system: str
    entity: str
    files: int
    rows: int


def cents_to_text(cents: pd.Series | np.ndarray) -> pd.Series:
    """Exact decimal text of integer cents (``1999`` -> ``"19.99"``), without float rounding."""
    return pd.Series(_cents_array(np.asarray(cents, dtype=np.int64), None).to_pylist(), dtype=object)


def _cents_array(cents: np.ndarray, valid: np.ndarray | None) -> pa.Array:
    """Integer cents as decimal text, built by Arrow: the cents are the unscaled value of a decimal(20, 2)
    (two's-complement 128-bit words, high word the sign), whose text form is exact."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty(2 * len(cents), dtype=np.int64)
    words[0::2], words[1::2] = cents, np.where(cents < 0, -1, 0)
    mask = None if valid is None or valid.all() else pa.array(valid).buffers()[1]
    decimal = pa.Array.from_buffers(pa.decimal128(20, 2), len(cents), [mask, pa.py_buffer(words)])
    return decimal.cast(pa.string())


def iso_seconds(stamps: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``YYYY-MM-DD HH:MM:SS`` text of second-resolution timestamps: Arrow's cast writes exactly that, and
    is about thirty times faster than ``strftime`` (which goes through a locale-aware formatter per value)."""
    return stamps.cast(pa.string())


class FileWriter:
    """Writes partition files on a few threads (Arrow's CSV and Parquet writers, zlib and file I/O release
    the GIL) while the caller prepares the next file; at most ``2 × threads`` files wait, so memory stays
    flat. Each file's bytes depend only on its table, so the landing zone is the same for any thread count."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="landing") if threads > 1 else None
        self._pending: deque[Future] = deque()
        self._limit = 2 * threads

    def write(self, part: pa.Table, path: Path, fmt: str) -> None:
        if self._pool is None:
            _write_file(part, path, fmt)
            return
        while len(self._pending) >= self._limit:
            self._pending.popleft().result()  # re-raises a failed write here
        self._pending.append(self._pool.submit(_write_file, part, path, fmt))

    def close(self) -> None:
        """Wait for every file; the first failure is raised."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_file(part: pa.Table, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(part, path, fmt)


def partition_path(landing_dir: Path, contract: EntityContract, day: dt.date) -> Path:
    return landing_dir / contract.landing_subdir / f"dt={day.isoformat()}" / contract.file_name


def _column(values: pd.Series | np.ndarray, col_type: str, text: bool) -> pa.Array:
    """One export column: text for timestamps (ISO, whole seconds), dates and booleans; numbers stay
    numbers (written unquoted); everything else as text. Without ``text`` (Parquet) dates and booleans keep
    their types."""
    if col_type == "timestamp":
        stamps = pa.array(pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[s]"), pa.timestamp("s"))
        return iso_seconds(stamps)
    array = pa.array(np.asarray(values), from_pandas=True) if isinstance(values, np.ndarray) else None
    if array is None:
        array = pa.Array.from_pandas(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if col_type == "date" and pa.types.is_timestamp(array.type):
        array = array.cast(pa.date32())
    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_string(kind) or pa.types.is_null(kind):
        return array if not pa.types.is_large_string(kind) else array.cast(pa.string())
    if not text and (pa.types.is_date(kind) or pa.types.is_boolean(kind)):
        return array
    return array.cast(pa.string())  # dates -> ISO, booleans -> true/false, anything else -> its text


def export_table(frame: pd.DataFrame, contract: EntityContract) -> pa.Table:
    """The contract's columns in its order: cents become exact decimals, timestamps ISO text, booleans
    words, numbers stay numeric (unquoted in CSV, bare in JSON)."""
    out = {}
    for col in contract.columns:
        if f"{col.name}_cents" in frame:
            values = frame[f"{col.name}_cents"]
            valid = values.notna().to_numpy()
            out[col.name] = _cents_array(values.fillna(0).to_numpy(dtype=np.int64), valid)
        else:
            out[col.name] = _column(frame[col.name], col.type, contract.format != "parquet")
    return pa.table(out)


def export_layout(frame: pd.DataFrame, contract: EntityContract) -> pd.DataFrame:
    """:func:`export_table` as a DataFrame of Python objects (what the dirt injector edits row by row)."""
    table = export_table(frame, contract)
    return pd.DataFrame({name: np.array(table[name].to_pylist(), dtype=object) for name in table.column_names})


def _day_keys(partition_day: pd.Series | np.ndarray) -> np.ndarray:
    values = np.asarray(partition_day)
    if np.issubdtype(values.dtype, np.datetime64):  # millions of stock snapshot rows: no pandas round trip
        return values.astype("datetime64[D]")
    return pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")


def write_partitioned(
    frame: pd.DataFrame,
    partition_day: pd.Series | np.ndarray,
    contract: EntityContract,
    landing_dir: Path,
    dirt: DirtInjector | None = None,
    writer: FileWriter | None = None,
) -> LandedEntity:
    """Write ``frame`` in the contract's layout as one file per day of ``partition_day`` (with dirt when a
    dirt injector applies to the entity). Rows keep their order within a day. With a ``writer`` the files
    may still be being written on return (``writer.close()`` waits for them)."""
    frame = frame.reset_index(drop=True)
    data = export_table(frame, contract)
    dirty = dirt is not None and dirt.applies_to(contract)
    changes: dict = {}
    if dirty:
        days = sorted(set(_day_keys(partition_day).astype(object)))
        changes = dirt.schema_changes(contract, days) if contract.format == "csv" else {}
        rejected = {day for day, change in changes.items() if change.kind == "renamed_column"}
        partition_day = dirt.move_late(contract, data, np.asarray(partition_day), avoid=rejected)
    keys = _day_keys(partition_day)
    if len(keys) and not (keys[1:] >= keys[:-1]).all():  # most extracts come in day order: no copy then
        order = np.argsort(keys, kind="stable")
        keys, data = keys[order], data.take(order)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], dtype=np.int64)
    bounds = np.r_[starts, len(keys)]
    files = 0
    for k, start in enumerate(starts):
        day = keys[start].item()
        path = partition_path(landing_dir, contract, day)
        part = data.slice(start, bounds[k + 1] - start)
        if dirty:
            rel = path.relative_to(landing_dir).as_posix()
            change = changes.get(day)
            if change is None or change.kind != "renamed_column":  # a rejected file gets no row dirt
                part = dirt.corrupt(contract, part, rel)
            if change is not None:
                part = dirt.change_schema(contract, part, rel, change)
        if writer is None:
            _write_file(part, path, contract.format)
        else:
            writer.write(part, path, contract.format)
        files += 1
    return LandedEntity(contract.source_system, contract.entity, files, len(frame))


# Strings are quoted (Arrow quotes every text value), numbers and nulls are bare: a null is an empty field.
_CSV_OPTIONS = pacsv.WriteOptions(quoting_header="none", quoting_style="needed")
_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _data_bytes(strings: pa.Array) -> np.ndarray:
    """The UTF-8 bytes of all values of a string array, as one NumPy view (nulls contribute nothing)."""
    if not len(strings) or strings.buffers()[2] is None:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[strings.offset : strings.offset + len(strings) + 1]
    return np.frombuffer(strings.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]


def _needs_escape(strings: pa.Array) -> bool:
    """Whether any value holds a quote, a backslash or a control character (a byte scan, not per value)."""
    data = _data_bytes(strings)
    return bool(((data < 0x20) | (data == 0x22) | (data == 0x5C)).any())


def _has_control(strings: pa.Array) -> bool:
    data = _data_bytes(strings)
    return bool(((data < 0x20) & (data != 0x0A) & (data != 0x0D) & (data != 0x09)).any())


def ndjson_bytes(table: pa.Table) -> bytes:
    """One JSON object per row, built column-wise by Arrow (no Python per row): text quoted and escaped,
    numbers bare, nulls ``null``; keys in column order."""
    if not table.num_rows:
        return b""
    pieces: list[pa.Array | str] = []
    for i, name in enumerate(table.column_names):
        column = table[name].combine_chunks() if isinstance(table[name], pa.ChunkedArray) else table[name]
        if pa.types.is_string(column.type) or pa.types.is_null(column.type):
            text = column.cast(pa.string())
            if _has_control(text):  # rare: let the json module escape every control character
                text = pa.array(
                    [None if v is None else json.dumps(v, ensure_ascii=False)[1:-1] for v in text.to_pylist()]
                )
            elif _needs_escape(text):
                for old, escaped in _JSON_ESCAPES:
                    text = pc.replace_substring(text, old, escaped)
            text = pc.binary_join_element_wise('"', text, '"', "")
        else:
            text = column.cast(pa.string())
        pieces += [("{" if i == 0 else ",") + json.dumps(name) + ":", pc.fill_null(text, "null")]
    lines = pc.binary_join_element_wise(*pieces, "}\n", "")
    return _joined(lines)


def _joined(strings: pa.Array) -> bytes:
    """All values of a string array without nulls, concatenated: the slice of its data buffer."""
    return _data_bytes(strings).tobytes()


def write_table(part: pa.Table | pd.DataFrame, path: Path, fmt: str) -> None:
    """Write one partition file; byte-identical for identical input (gzip headers carry no timestamp)."""
    if isinstance(part, pd.DataFrame):
        part = pa.Table.from_pandas(part, preserve_index=False)
    if fmt == "csv":
        pacsv.write_csv(part, path, _CSV_OPTIONS)
    elif fmt == "jsonl":
        path.write_bytes(ndjson_bytes(part))
    elif fmt == "ndjson_gz":  # mtime=0: gzip headers carry no timestamp, so re-landing is byte-identical
        path.write_bytes(gzip.compress(ndjson_bytes(part), compresslevel=1, mtime=0))
    elif fmt == "parquet":
        pq.write_table(part, path, compression="zstd")
    else:  # pragma: no cover - contracts are validated on load
        raise ValueError(f"Unsupported format {fmt!r} for {path}")


def _date_of(values: pd.Series, start: dt.date) -> np.ndarray:
    """Partition day of a timestamp column; anything before the first day lands in the first partition."""
    return np.maximum(pd.to_datetime(values).dt.date.to_numpy(), start)


def land_world(world: World, settings: Settings) -> list[LandedEntity]:
    """Write every extract of ``world`` into the landing zone and return what was written; with a dirt
    rate, the dirty rows are listed in ``truth/dirty_rows.csv``."""
    landed: list[LandedEntity] = []
    dirt = DirtInjector(settings.dirt_rate, settings.seed)

    with FileWriter(settings.landing_threads) as writer:
        _land_all(world, settings, dirt, writer, landed)
    settings.truth_dir.mkdir(parents=True, exist_ok=True)
    dirt.truth().to_csv(settings.truth_dir / "dirty_rows.csv", index=False, lineterminator="\n")
    dirt.schema_truth().to_csv(settings.truth_dir / "schema_changes.csv", index=False, lineterminator="\n")
    return landed


def _land_all(world: World, settings: Settings, dirt: DirtInjector, writer: FileWriter, landed: list) -> None:
    landing, start = settings.landing_dir, settings.start_date

    def land(system: str, entity: str, frame: pd.DataFrame, day) -> None:  # noqa: ANN001
        landed.append(write_partitioned(frame, day, get_contract(system, entity), landing, dirt, writer))

    orders = world.orders
    land("shop", "orders", orders, orders["ordered_at"].dt.date)
    land("shop", "order_lines", world.order_lines, world.order_lines["order_date"])
    land("shop", "payments", world.payments, world.payments["authorized_at"].dt.date)
    ship = world.shipments
    last_milestone = ship[["picked_at", "packed_at", "shipped_at", "delivered_at"]].max(axis=1)
    land("shop", "shipments", ship, last_milestone.dt.date)
    land("shop", "returns", world.returns, world.returns["requested_at"].dt.date)

    feed = customer_feed(world)
    land("crm", "customers", feed, _date_of(feed["updated_at"], start))
    consents = consent_events(world)
    land("crm", "consents", consents, _date_of(consents["recorded_at"], start))

    landed.extend(land_catalog(world, settings))
    land("pim", "price_changes", world.catalog.price_changes, world.catalog.price_changes["effective_from"])

    inv = world.inventory
    land("inventory", "stock_snapshots", inv, inv["snapshot_date"])
    pos = world.purchase_orders
    land("inventory", "purchase_orders", pos, pos["ordered_on"])
    received = pos[pos["received_on"].notna()]
    land("inventory", "receipts", received, received["received_on"])
    suppliers = world.catalog.suppliers.rename(columns={"lead_time_mean_days": "contract_lead_time_days"})
    land("inventory", "suppliers", suppliers, np.full(len(suppliers), start))
    land("inventory", "warehouses", WAREHOUSES, np.full(len(WAREHOUSES), start))

    landed.append(land_clickstream(world, settings, dirt, writer))

    promos = world.catalog.promotions
    land("marketing", "promotions", promos, promos["starts_on"])
    campaigns = world.campaigns.campaigns
    land("marketing", "campaigns", campaigns, campaigns["starts_on"])
    start_of = campaigns.set_index("campaign_id")["starts_on"]
    audiences = world.campaigns.audiences
    land("marketing", "campaign_audiences", audiences, audiences["campaign_id"].map(start_of))
    land("marketing", "email_events", world.email_events, world.email_events["event_at"].dt.date)
    land("marketing", "ad_spend", world.ad_spend, world.ad_spend["spend_date"])
    codes = campaigns.rename(
        columns={"promo_discount_pct": "discount_pct", "starts_on": "valid_from", "ends_on": "valid_to"}
    )
    land("marketing", "promo_codes", codes, codes["valid_from"])
    redemptions = world.promo_redemptions
    land("marketing", "promo_redemptions", redemptions, redemptions["redeemed_at"].dt.date)

    land("crm", "reviews", world.reviews, world.reviews["created_at"].dt.date)
    support = world.support_conversations
    land("crm", "support_conversations", support, support["opened_at"].dt.date)
    land("external", "market_trend", world.market_trend, world.market_trend["week_start"])
    land("external", "social_mentions", world.social_mentions, world.social_mentions["posted_at"].dt.date)
    land("security", "login_events", world.login_events, world.login_events["attempted_at"].dt.date)
    access = world.data_access_events
    land("security", "data_access_events", access, access["accessed_at"].dt.date)

    weather = world.weather.rename(columns={"date": "observed_on"})
    land("external", "weather", weather, weather["observed_on"])
    comp = world.competitor_prices
    land("external", "competitor_prices", comp, comp["observed_on"])


def land_clickstream(
    world: World, settings: Settings, dirt: DirtInjector | None = None, writer: FileWriter | None = None
) -> LandedEntity:
    """One gzipped NDJSON file per session day, generated and written a day at a time (flat memory)."""
    contract = get_contract("shop", "clickstream")
    dirty = dirt is not None and dirt.applies_to(contract)
    files = rows = 0
    for day, events in world.clickstream.events_by_day():
        if not events.num_rows:
            continue
        path = partition_path(settings.landing_dir, contract, day.date())
        at = events.schema.get_field_index("event_at")
        events = events.set_column(at, "event_at", iso_seconds(events["event_at"]))
        rows += events.num_rows
        if dirty:
            events = dirt.corrupt(contract, events, path.relative_to(settings.landing_dir).as_posix())
        if writer is None:
            _write_file(events, path, contract.format)
        else:
            writer.write(events, path, contract.format)
        files += 1
    return LandedEntity("shop", "clickstream", files, rows)


def customer_feed(world: World) -> pd.DataFrame:
    """The CRM change feed: the full profile after each insert or change, in time order."""
    profiles = world.customers
    columns = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "street_address",
        "city",
        "region_code",
        "country_code",
        "birth_date",
        "signed_up_at",
        "loyalty_tier",
    ]
    inserts = profiles[["customer_id", *columns]].assign(change_type="insert", updated_at=profiles["signed_up_at"])
    changes = world.customer_changes.rename(columns={"changed_at": "updated_at"})
    events = pd.concat([inserts, changes], ignore_index=True)
    events["_order"] = np.arange(len(events))
    events = events.sort_values(["customer_id", "updated_at", "_order"], kind="stable")
    # A change row carries only what changed: the rest of the profile carries forward from the last version.
    # Columns null since sign-up (no phone) stay null, because there is nothing to carry forward.
    events[columns] = events.groupby("customer_id", sort=False)[columns].ffill()
    feed = events.drop(columns="_order")[["customer_id", "change_type", "updated_at", *columns]]
    return feed.sort_values(["updated_at", "customer_id"], kind="stable").reset_index(drop=True)


def consent_events(world: World) -> pd.DataFrame:
    """Consent choices at sign-up per channel, then planted withdrawals."""
    profiles = world.customers
    frames = []
    for channel in ("email", "push"):
        granted = profiles[f"{channel}_consent"].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": profiles["customer_id"],
                    "channel": channel,
                    "consent_status": np.where(granted, "granted", "denied"),
                    "recorded_at": profiles["signed_up_at"],
                    "source": "signup_form",
                }
            )
        )
    withdrawals = world.consent_withdrawals
    frames.append(withdrawals.assign(consent_status="withdrawn", source="preference_centre"))
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["recorded_at", "customer_id", "channel"], kind="stable").reset_index(drop=True)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def land_catalog(world: World, settings: Settings) -> list[LandedEntity]:
    """Monthly nested PIM exports: products -> variants -> channel prices, as of the export day."""
    catalog = world.catalog
    products, variants = catalog.products, catalog.variants
    days = world.days
    contract = get_contract("pim", "products")
    ref = products["ref_price_cents"].to_numpy()
    skus_of: dict[str, list[tuple[int, str, str | None]]] = {}
    for position, (sku, product_id, size) in enumerate(variants[["sku", "product_id", "size"]].itertuples(index=False)):
        skus_of.setdefault(product_id, []).append((position, sku, size))
    factors = np.array(list(CHANNEL_PRICE_FACTOR.values()))
    exports = [t for t, d in enumerate(days) if d.day == 1] or [0]
    for t in exports:
        list_cents = round_price(ref * catalog.list_multiplier[:, t])
        channel_cents = round_price(list_cents[:, None] * factors[None, :])
        docs = [
            {
                "product_id": product.product_id,
                "product_name": product.product_name,
                "brand": product.brand,
                "category_id": product.category_id,
                "colour": product.colour,
                "list_price": _money(int(list_cents[i])),
                "unit_cost": _money(int(product.unit_cost_cents)),
                "supplier_id": product.supplier_id,
                "launched_on": product.launched_on.isoformat(),
                "is_active": True,
                "variants": [
                    {
                        "sku": sku,
                        "size": size,
                        "barcode": f"{400000000000 + position:012d}",
                        "channel_prices": [
                            {"channel": channel, "list_price": _money(int(channel_cents[i, k])), "currency": "USD"}
                            for k, channel in enumerate(CHANNEL_PRICE_FACTOR)
                        ],
                    }
                    for position, sku, size in skus_of[product.product_id]
                ],
            }
            for i, product in enumerate(products.itertuples(index=False))
        ]
        path = partition_path(settings.landing_dir, contract, days[t].date())
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"exported_at": f"{days[t].date().isoformat()}T00:00:00Z", "products": docs}
        path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    n = len(exports)
    return [
        LandedEntity("pim", "products", n, n * len(products)),
        LandedEntity("pim", "variants", n, n * len(variants)),
        LandedEntity("pim", "channel_prices", n, n * len(variants) * len(factors)),
    ]
