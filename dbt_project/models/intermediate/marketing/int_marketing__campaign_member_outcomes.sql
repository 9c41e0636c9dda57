-- One row per campaign audience member: the orders, order lines and net revenue of the orders they placed
-- during the campaign window (starts_on .. ends_on by order date), every order placed counted (demand);
-- revenue counts non-cancelled orders, net of promo discounts. The generator plants the uplift on the
-- lines (ingestion/world/simulate.py: each line a treated member buys while the campaign runs brings
-- `uplift` extra lines bought by treated members), so treatment vs holdout lines per member estimate it:
-- int_marketing__campaign_uplift aggregates these rows, ml/campaign_uplift.py resamples them.
-- A table, not a view like most intermediate models: its seven tests, int_marketing__campaign_uplift and the
-- uplift estimate each read it, and as a view each recomputed the audiences' order windows (~14 s of a
-- nightly run's tests at SF10).
{{ config(materialized='table') }}

with

campaigns as (
    select * from {{ ref('stg_marketing__campaigns') }}
),

audiences as (
    select * from {{ ref('stg_marketing__campaign_audiences') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

lines_per_order as (
    select
        order_id,
        count(*) as line_count
    from order_lines
    group by order_id
),

final as (
    select
        audiences.campaign_id,
        audiences.customer_id,
        audiences.assigned_group,
        count(orders.order_id) as orders_in_window,
        cast(coalesce(sum(lines_per_order.line_count), 0) as bigint) as lines_in_window,
        coalesce(sum(
            case
                when orders.order_status != 'cancelled'
                    then orders.subtotal - coalesce(orders.promo_discount, 0)
                else 0
            end
        ), 0) as net_revenue_in_window
    from audiences
    inner join campaigns
        on audiences.campaign_id = campaigns.campaign_id
    left join orders
        on
            audiences.customer_id = orders.customer_id
            and campaigns.starts_on <= orders.order_date
            and campaigns.ends_on >= orders.order_date
    left join lines_per_order
        on orders.order_id = lines_per_order.order_id
    group by audiences.campaign_id, audiences.customer_id, audiences.assigned_group
)

select * from final
