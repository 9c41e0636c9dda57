"""Inventory and supply chain report: stockouts, supplier lead times, fulfilment speed, what to reorder."""

from __future__ import annotations

import duckdb
import plotly.express as px

from reports.render import Chart, Headline, ReportSpec, query_frame

LATEST_RESTOCK = "(select max(snapshot_date) from marts.agg_restock_recommendations)"


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    stockouts = query_frame(
        con,
        """
        select snapshot_date, warehouse_id, avg(case when is_stockout then 1.0 else 0.0 end) as stockout_share
        from marts.fct_inventory_daily
        group by 1, 2
        order by 1, 2
        """,
    )
    suppliers = query_frame(
        con,
        """
        select supplier_id, contract_lead_time_days, mean_lead_time_days, on_time_rate
        from marts.dim_supplier
        where received_order_count > 0
        order by mean_lead_time_days desc
        """,
    )
    fulfilment = query_frame(
        con,
        """
        select date_trunc('week', pick_date) as week, warehouse_id,
            sum(avg_hours_order_to_ship * shipments) / nullif(sum(shipments), 0) as hours_order_to_ship
        from marts.agg_fulfilment_daily
        where avg_hours_order_to_ship is not null
        group by 1, 2
        order by 1, 2
        """,
    )
    reorder = query_frame(
        con,
        f"""
        select sku || ' @ ' || warehouse_id as sku_at_warehouse, recommended_order_units, days_of_cover
        from marts.agg_restock_recommendations
        where needs_reorder and snapshot_date = {LATEST_RESTOCK}
        order by recommended_order_units desc, sku_at_warehouse
        limit 20
        """,
    )
    return [
        Chart(
            "stockout_share",
            "Share of SKUs out of stock per day and warehouse",
            px.line(stockouts, x="snapshot_date", y="stockout_share", color="warehouse_id", render_mode="svg"),
            "From the daily stock snapshots: on-hand zero at the end of the day.",
        ),
        Chart(
            "supplier_lead_times",
            "Supplier lead times: contract vs actual",
            px.bar(
                suppliers.melt(
                    id_vars="supplier_id",
                    value_vars=["contract_lead_time_days", "mean_lead_time_days"],
                    var_name="lead_time",
                    value_name="days",
                ),
                x="supplier_id",
                y="days",
                color="lead_time",
                barmode="group",
            ),
            "Mean lead time of received purchase orders against the contract; late suppliers stand out.",
        ),
        Chart(
            "fulfilment_hours",
            "Hours from order to shipment, weekly, per warehouse",
            px.line(fulfilment, x="week", y="hours_order_to_ship", color="warehouse_id"),
            "Shipment-weighted mean of the daily fulfilment figures.",
        ),
        Chart(
            "reorder",
            "Largest restock recommendations on the latest snapshot",
            px.bar(
                reorder,
                x="recommended_order_units",
                y="sku_at_warehouse",
                orientation="h",
                hover_data=["days_of_cover"],
            ),
            "(s, S) recommendation: order up to the target when the inventory position falls below the reorder point.",
        ),
    ]


SPEC = ReportSpec(
    slug="inventory",
    title="Inventory and supply chain",
    summary="Stock availability, stockout episodes and the sales they cost, supplier reliability, how fast "
    "warehouses ship, and what to reorder now. From the supply-chain marts.",
    owner="team:supply-chain",
    reads=(
        "marts.fct_inventory_daily",
        "marts.fct_stockouts",
        "marts.fct_purchase_orders",
        "marts.fct_shipments",
        "marts.dim_supplier",
        "marts.agg_fulfilment_daily",
        "marts.agg_restock_recommendations",
    ),
    headlines=(
        Headline(
            "stockout_rate",
            "SKU-days out of stock",
            "select avg(case when is_stockout then 1.0 else 0.0 end) from marts.fct_inventory_daily",
            "pct",
            "share of warehouse × SKU × day",
        ),
        Headline("stockout_episodes", "Stockout episodes", "select count(*) from marts.fct_stockouts", "count"),
        Headline(
            "lost_units",
            "Units lost to stockouts",
            "select sum(lost_units_estimate) from marts.fct_stockouts",
            "count",
            "estimate: demand before the stockout × its days",
        ),
        Headline(
            "supplier_on_time_rate",
            "Purchase orders on time",
            "select avg(case when is_late then 0.0 else 1.0 end) from marts.fct_purchase_orders where is_received",
            "pct",
            "of received purchase orders",
        ),
        Headline(
            "hours_order_to_ship",
            "Order to shipment",
            "select avg(hours_order_to_ship) from marts.fct_shipments",
            "hours",
            "mean over shipped parcels",
        ),
        Headline(
            "skus_to_reorder",
            "SKUs to reorder now",
            f"select count(*) from marts.agg_restock_recommendations where needs_reorder "
            f"and snapshot_date = {LATEST_RESTOCK}",
            "count",
            "warehouse × SKU, latest snapshot",
        ),
    ),
    charts=charts,
)
