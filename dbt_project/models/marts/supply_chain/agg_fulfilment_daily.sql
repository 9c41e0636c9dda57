with

shipments as (
    select * from {{ ref('fct_shipments') }}
),

aggregated as (
    select
        warehouse_id,
        pick_date,
        count(*) as shipments,
        sum(case when packed_at is not null then 1 else 0 end) as packed_shipments,
        sum(case when shipped_at is not null then 1 else 0 end) as shipped_shipments,
        sum(case when is_delivered then 1 else 0 end) as delivered_shipments,
        sum(case when hours_order_to_deliver <= 72 then 1 else 0 end) as delivered_within_3_days,
        {{ exact_avg('hours_pick_to_pack') }} as avg_hours_pick_to_pack,
        percentile_cont(0.9) within group (order by hours_pick_to_pack) as p90_hours_pick_to_pack,
        {{ exact_avg('hours_pack_to_ship') }} as avg_hours_pack_to_ship,
        percentile_cont(0.9) within group (order by hours_pack_to_ship) as p90_hours_pack_to_ship,
        {{ exact_avg('hours_ship_to_deliver') }} as avg_hours_ship_to_deliver,
        percentile_cont(0.9) within group (order by hours_ship_to_deliver) as p90_hours_ship_to_deliver,
        {{ exact_avg('hours_order_to_ship') }} as avg_hours_order_to_ship,
        percentile_cont(0.9) within group (order by hours_order_to_ship) as p90_hours_order_to_ship
    from shipments
    group by warehouse_id, pick_date
),

final as (
    select
        {{ dbt.concat([
            "warehouse_id",
            "'|'",
            "cast(pick_date as " ~ dbt.type_string() ~ ")",
        ]) }} as fulfilment_daily_key,
        warehouse_id,
        pick_date,
        cast(shipments as bigint) as shipments,
        cast(packed_shipments as bigint) as packed_shipments,
        cast(shipped_shipments as bigint) as shipped_shipments,
        cast(delivered_shipments as bigint) as delivered_shipments,
        cast(avg_hours_pick_to_pack as double) as avg_hours_pick_to_pack,
        cast(p90_hours_pick_to_pack as double) as p90_hours_pick_to_pack,
        cast(avg_hours_pack_to_ship as double) as avg_hours_pack_to_ship,
        cast(p90_hours_pack_to_ship as double) as p90_hours_pack_to_ship,
        cast(avg_hours_ship_to_deliver as double) as avg_hours_ship_to_deliver,
        cast(p90_hours_ship_to_deliver as double) as p90_hours_ship_to_deliver,
        cast(avg_hours_order_to_ship as double) as avg_hours_order_to_ship,
        cast(p90_hours_order_to_ship as double) as p90_hours_order_to_ship,
        cast(delivered_within_3_days as double) / shipments as share_delivered_within_3_days
    from aggregated
)

select * from final
