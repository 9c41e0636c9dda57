"""The raw loader on hand-made extracts: quarantine reasons, reconciliation, idempotency, schema drift."""

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.contracts import get_contract
from ingestion.raw_loader import SchemaContractError, load_entity, rejected_marker

ORDERS = get_contract("shop", "orders")
HEADER = (
    "order_id,customer_id,ordered_at,channel,status,currency,ship_region,subtotal,tax,shipping_fee,order_total,"
    "promo_code,promo_discount"
)
GOOD = "O1,C1,2024-01-01 10:00:00,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00"


def land(landing: Path, day: str, text: str, name: str = "orders.csv") -> Path:
    path = landing / "shop" / "orders" / f"dt={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def audit(con) -> list[tuple]:
    return con.execute(
        "select file, status, rows_in, rows_loaded, rows_quarantined from governance.load_audit order by file, status"
    ).fetchall()


def test_each_broken_row_is_quarantined_with_its_reason_file_and_line(tmp_path, con):
    land(
        tmp_path,
        "2024-01-01",
        "\n".join(
            [
                HEADER,
                GOOD,
                "O2,,2024-01-01 10:00:00,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00",
                "O3,C1,yesterday,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00",
                "O4,C1,2024-01-01 10:00:00,fax,paid,USD,NE,-1.00,0.65,4.99,15.64,,0.00",
                "O5,C1,2024-01-01 10:00:00,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00",
                "O5,C1,2024-01-01 10:00:00,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00",
                "O6,C1,2024-01-01 10:00:00,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00",
                "O6,C9,2024-01-01 10:00:00,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00",
                "O7,too,few",
            ]
        )
        + "\n",
    )
    result = load_entity(con, ORDERS, tmp_path, run_id="t")
    assert con.execute("select order_id from raw.shop_orders order by 1").fetchall() == [("O1",), ("O5",)]
    quarantined = con.execute(
        "select _source_file, _source_line, reason from quarantine.shop_orders order by _source_line"
    ).fetchall()
    file = "shop/orders/dt=2024-01-01/orders.csv"
    assert quarantined == [
        (file, 3, "missing_required: customer_id"),
        (file, 4, "malformed: ordered_at is not timestamp"),
        (file, 5, "unexpected_value: channel; out_of_range: subtotal < 0"),
        (file, 7, "duplicate_exact: same as line 6"),
        (file, 8, "duplicate_key_conflict: order_id"),
        (file, 9, "duplicate_key_conflict: order_id"),
        (file, 10, "malformed_row: expected 13 fields, got 3"),
    ]
    assert (result.total("rows_in"), result.total("rows_loaded"), result.total("rows_quarantined")) == (9, 2, 7)
    assert audit(con) == [(file, "loaded", 9, 2, 7)]


def test_quarantine_keeps_the_original_record(tmp_path, con):
    land(tmp_path, "2024-01-01", f"{HEADER}\nO3,C1,yesterday,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00\n")
    load_entity(con, ORDERS, tmp_path)
    record = con.execute("select record::json ->> 'ordered_at' from quarantine.shop_orders").fetchone()[0]
    assert record == "yesterday"


def test_reloading_and_landing_the_same_file_twice_load_it_once(tmp_path, con):
    first = land(tmp_path, "2024-01-01", f"{HEADER}\n{GOOD}\n")
    load_entity(con, ORDERS, tmp_path)
    again = load_entity(con, ORDERS, tmp_path)
    assert [f.status for f in again.files] == ["skipped_unchanged"]
    copy = land(tmp_path, "2024-01-02", "")
    shutil.copyfile(first, copy)
    third = load_entity(con, ORDERS, tmp_path)
    assert sorted(f.status for f in third.files) == ["duplicate_file", "skipped_unchanged"]
    assert con.execute("select count(*) from raw.shop_orders").fetchone()[0] == 1


def test_a_corrected_file_replaces_its_previous_rows(tmp_path, con):
    land(tmp_path, "2024-01-01", f"{HEADER}\n{GOOD}\n")
    load_entity(con, ORDERS, tmp_path)
    land(tmp_path, "2024-01-01", f"{HEADER}\n{GOOD.replace('web', 'app')}\n")
    load_entity(con, ORDERS, tmp_path)
    assert con.execute("select order_id, channel from raw.shop_orders").fetchall() == [("O1", "app")]


def test_an_added_column_is_loaded_and_reported(tmp_path, con):
    land(tmp_path, "2024-01-01", f"{HEADER},gift_wrap\n{GOOD},yes\n")
    result = load_entity(con, ORDERS, tmp_path)
    assert result.files[0].columns_added == ("gift_wrap",)
    assert con.execute("select gift_wrap from raw.shop_orders").fetchall() == [("yes",)]


def test_a_missing_required_column_rejects_the_file_with_a_clear_message(tmp_path, con):
    land(tmp_path, "2024-01-01", f"{HEADER}\n{GOOD}\n")
    land(tmp_path, "2024-01-02", "order_id,customer_id,ordered_at\nO9,C1,2024-01-02 00:00:00\n")
    with pytest.raises(SchemaContractError) as err:
        load_entity(con, ORDERS, tmp_path)
    message = str(err.value)
    assert "shop/orders/dt=2024-01-02/orders.csv" in message
    assert "channel" in message and "shop.yml" in message
    # The good file still loads; the rejected one stays in landing, audited, marked, and is retried next time.
    assert con.execute("select count(*) from raw.shop_orders").fetchone()[0] == 1
    rejected = tmp_path / "shop/orders/dt=2024-01-02/orders.csv"
    assert rejected.exists() and rejected_marker(rejected).exists()
    # Its records are held in quarantine for that reason, so the file reconciles (rows in = quarantined) and
    # the keys it held back are known to the warehouse.
    assert ("shop/orders/dt=2024-01-02/orders.csv", "rejected", 1, 0, 1) in audit(con)
    held = con.execute("select _source_line, reason, record from quarantine.shop_orders").fetchall()
    assert [(line, reason.split(":")[0]) for line, reason, _ in held] == [(2, "file_rejected")]
    assert "channel" in held[0][1] and json.loads(held[0][2])["order_id"] == "O9"
    # A fixed re-export of the same path loads and replaces them; the marker goes.
    land(tmp_path, "2024-01-02", f"{HEADER}\n{GOOD.replace('O1', 'O9')}\n")
    load_entity(con, ORDERS, tmp_path)
    assert con.execute("select count(*) from quarantine.shop_orders").fetchone()[0] == 0
    assert sorted(r[0] for r in con.execute("select order_id from raw.shop_orders").fetchall()) == ["O1", "O9"]
    assert not rejected_marker(rejected).exists()


def test_a_rejected_file_keeps_no_column_the_contract_does_not_know(tmp_path, con):
    """A renamed column of a rejected file may hold personal data the contract cannot classify: its values stay
    in landing, never in quarantine."""
    land(tmp_path, "2024-01-02", HEADER.replace("customer_id", "customer_ref") + "\n" + GOOD + "\n")
    result = load_entity(con, ORDERS, tmp_path, strict=False)
    assert [f.status for f in result.files] == ["rejected"]
    (record,) = con.execute("select record from quarantine.shop_orders").fetchone()
    fields = json.loads(record)
    assert "customer_ref" not in fields and fields["customer_id"] is None and fields["order_id"] == "O1"


def test_nested_json_records_inherit_their_parent_keys(tmp_path, con):
    path = tmp_path / "pim" / "catalog" / "dt=2024-01-01" / "catalog.json"
    path.parent.mkdir(parents=True)
    product = {
        "product_id": "P1",
        "product_name": "A",
        "brand": "B",
        "category_id": "CAT01",
        "list_price": 9.99,
        "unit_cost": "5.00",
        "supplier_id": "S1",
        "launched_on": "2023-01-01",
        "is_active": True,
        "variants": [
            {
                "sku": "SKU1-S",
                "size": "S",
                "barcode": "1",
                "channel_prices": [
                    {"channel": "web", "list_price": "9.99", "currency": "USD"},
                    {"channel": "fax", "list_price": "9.99", "currency": "USD"},
                ],
            },
            "not a variant",
        ],
    }
    path.write_text(json.dumps({"exported_at": "2024-01-01T00:00:00Z", "products": [product]}))
    load_entity(con, get_contract("pim", "products"), tmp_path)
    load_entity(con, get_contract("pim", "variants"), tmp_path)
    load_entity(con, get_contract("pim", "channel_prices"), tmp_path)
    assert con.execute("select product_id, list_price::varchar, is_active from raw.pim_products").fetchall() == [
        ("P1", "9.99", True)
    ]
    assert con.execute("select sku, product_id, size from raw.pim_variants").fetchall() == [("SKU1-S", "P1", "S")]
    assert con.execute("select reason, record from quarantine.pim_variants").fetchall() == [
        ("malformed_json: not an object", '"not a variant"')
    ]
    assert con.execute("select sku, channel from raw.pim_channel_prices").fetchall() == [("SKU1-S", "web")]
    # The broken variant also hides whatever prices it had: the price entity reports it too.
    assert sorted(con.execute("select reason from quarantine.pim_channel_prices").fetchall()) == [
        ("malformed_json: not an object",),
        ("unexpected_value: channel",),
    ]


def test_parquet_keeps_its_types_and_still_quarantines_breaches(tmp_path, con):
    path = tmp_path / "inventory" / "stock_snapshots" / "dt=2024-01-01" / "stock_snapshots.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "snapshot_date": pa.array([dt.date(2024, 1, 1)] * 3),
                "warehouse_id": ["WH-EAST", "WH-EAST", None],
                "sku": ["A", "B", "C"],
                "on_hand_units": pa.array([5, -1, 2], pa.int32()),
            }
        ),
        path,
    )
    result = load_entity(con, get_contract("inventory", "stock_snapshots"), tmp_path)
    assert con.execute("select sku, on_hand_units from raw.inventory_stock_snapshots").fetchall() == [("A", 5)]
    assert con.execute(
        "select _source_line, reason from quarantine.inventory_stock_snapshots order by 1"
    ).fetchall() == [(2, "out_of_range: on_hand_units < 0"), (3, "missing_required: warehouse_id")]
    assert (result.total("rows_in"), result.total("rows_loaded"), result.total("rows_quarantined")) == (3, 1, 2)


def test_chunked_loading_writes_whole_files_per_transaction_and_the_same_rows(tmp_path):
    """With a chunk smaller than the history, each chunk of whole files is its own load (memory stays bounded)
    and raw, quarantine and the audit end up exactly as one big load leaves them."""
    for day in range(1, 6):
        rows = [GOOD.replace("O1,", f"O{day}{k},").replace("2024-01-01", f"2024-01-0{day}") for k in range(3)]
        rows.append(f"O{day}X,C1,not a time,web,paid,USD,NE,10.00,0.65,4.99,15.64,,0.00")
        land(tmp_path, f"2024-01-0{day}", "\n".join([HEADER, *rows]))
    snapshots = []
    for chunk_rows in (1_000_000, 4):
        with duckdb.connect() as con:
            load_entity(con, ORDERS, tmp_path, chunk_rows=chunk_rows)
            snapshots.append(
                (
                    con.execute("select * exclude (_load_id, _loaded_at) from raw.shop_orders order by all").fetchall(),
                    con.execute(
                        "select _source_file, _source_line, reason, record from quarantine.shop_orders order by all"
                    ).fetchall(),
                    audit(con),
                    con.execute("select count(distinct _load_id) from raw.shop_orders").fetchone()[0],
                )
            )
    (raw_one, quarantine_one, audit_one, loads_one), (raw_chunked, quarantine_chunked, audit_chunked, loads) = snapshots
    assert len(raw_one) == 15 and len(quarantine_one) == 5
    assert (raw_chunked, quarantine_chunked, audit_chunked) == (raw_one, quarantine_one, audit_one)
    # 4 rows per file read: each file reaches the chunk size alone, so five transactions against one.
    assert (loads_one, loads) == (1, 5)
