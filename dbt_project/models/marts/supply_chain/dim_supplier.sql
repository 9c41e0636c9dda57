-- Lead-time statistics use received purchase orders only (an open order has no lead time yet). No
-- percentiles: they are not portable across engines; mean, standard deviation and extremes are. The
-- sample stddev is written out from integer sums, (n·Σx² − (Σx)²) / (n(n − 1)), so it is exact and
-- does not depend on the order a parallel stddev_samp adds rows in (reruns stay byte-identical).
with

suppliers as (
    select * from {{ ref('stg_inventory__suppliers') }}
),

purchase_orders as (
    select * from {{ ref('int_supply_chain__purchase_order_receipts') }}
),

lead_times as (
    select
        supplier_id,
        count(*) as purchase_order_count,
        sum(case when is_received then 1 else 0 end) as received_order_count,
        avg(lead_time_days) as mean_lead_time_days,
        count(lead_time_days) as lead_time_count,
        sum(lead_time_days) as lead_time_sum,
        sum(lead_time_days * lead_time_days) as lead_time_square_sum,
        min(lead_time_days) as min_lead_time_days,
        max(lead_time_days) as max_lead_time_days,
        avg(delay_days) as mean_delay_days,
        sum(case when is_received and received_on <= expected_on then 1 else 0 end) as on_time_count
    from purchase_orders
    group by supplier_id
),

final as (
    select
        suppliers.supplier_id,
        suppliers.supplier_name,
        suppliers.country_code,
        cast(suppliers.contract_lead_time_days as double) as contract_lead_time_days,
        cast(coalesce(lead_times.purchase_order_count, 0) as bigint) as purchase_order_count,
        cast(coalesce(lead_times.received_order_count, 0) as bigint) as received_order_count,
        cast(lead_times.mean_lead_time_days as double) as mean_lead_time_days,
        cast(
            case
                when lead_times.lead_time_count > 1
                    then sqrt(
                        cast(
                            lead_times.lead_time_count * lead_times.lead_time_square_sum
                            - lead_times.lead_time_sum * lead_times.lead_time_sum as double
                        )
                        / (lead_times.lead_time_count * (lead_times.lead_time_count - 1))
                    )
            end as double
        ) as stddev_lead_time_days,
        cast(lead_times.min_lead_time_days as integer) as min_lead_time_days,
        cast(lead_times.max_lead_time_days as integer) as max_lead_time_days,
        cast(lead_times.mean_delay_days as double) as mean_delay_days,
        cast(
            case
                when lead_times.received_order_count > 0
                    then cast(lead_times.on_time_count as double) / lead_times.received_order_count
            end as double
        ) as on_time_rate
    from suppliers
    left join lead_times
        on suppliers.supplier_id = lead_times.supplier_id
)

select * from final
