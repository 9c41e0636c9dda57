-- On DuckDB incremental by order date: a windowed run rebuilds the days of its window (the days of
-- fct_order_lines it rebuilt) and the sale days of every order its days' extracts touched (see
-- landed_in_window): a return lands on the day of the line it undoes, a re-exported order may change the
-- ship region of an older day's lines. Older days of fct_order_lines stay as they were, so no other day
-- changes. A run without a window and a first build take every day; on Spark it is a table rebuilt whole.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'order_date',
    on_schema_change='fail'
) }}

-- depends_on: {{ ref('stg_shop__order_lines') }}
{%- set by_key = rebuilds_by_key() %}

with

{% if by_key %}
    touched_orders as (
        {{ keys_landed_in_window('order_id', [
            ref('stg_shop__orders'), ref('stg_shop__order_lines'), ref('stg_shop__returns')
        ]) }}
    ),

    rebuilt_days as (
        select distinct order_date from {{ ref('fct_order_lines') }}
        where
            ({{ incremental_window('order_date') }})
            or order_id in (select touched_orders.order_id from touched_orders)
    ),
{% endif %}

rebuilt_lines as (
    select * from {{ ref('fct_order_lines') }}
    {% if by_key %}where order_date in (select rebuilt_days.order_date from rebuilt_days){% endif %}
),

order_lines as (
    select * from rebuilt_lines
    where not is_cancelled
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

-- Returns stay with the line they undo, hence with the day that line was sold.
line_returns as (
    select
        order_id,
        line_number,
        sum(returned_quantity) as returned_units,
        sum(refund_amount) as refund_amount
    from returns
    group by order_id, line_number
),

lines as (
    select
        order_lines.order_date,
        order_lines.product_id,
        orders.ship_region_code,
        order_lines.channel,
        order_lines.order_id,
        order_lines.quantity,
        order_lines.line_amount,
        order_lines.discount_amount,
        order_lines.cost_amount,
        order_lines.gross_margin,
        coalesce(line_returns.returned_units, 0) as returned_units,
        coalesce(line_returns.refund_amount, 0) as refund_amount
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join line_returns
        on
            order_lines.order_id = line_returns.order_id
            and order_lines.line_number = line_returns.line_number
),

aggregated as (
    select
        order_date,
        product_id,
        ship_region_code,
        channel,
        count(distinct order_id) as orders,
        count(*) as order_lines,
        sum(quantity) as units,
        sum(line_amount) as gross_revenue,
        sum(discount_amount) as discount_amount,
        sum(cost_amount) as cost_amount,
        sum(gross_margin) as gross_margin,
        sum(returned_units) as returned_units,
        sum(refund_amount) as refund_amount
    from lines
    group by order_date, product_id, ship_region_code, channel
),

final as (
    select
        {{ dbt.concat([
            "cast(order_date as " ~ dbt.type_string() ~ ")",
            "'|'",
            "product_id",
            "'|'",
            "ship_region_code",
            "'|'",
            "channel",
        ]) }} as sales_daily_key,
        order_date,
        product_id,
        ship_region_code,
        channel,
        cast(orders as bigint) as orders,
        cast(order_lines as bigint) as order_lines,
        cast(units as bigint) as units,
        cast(gross_revenue as decimal(16, 2)) as gross_revenue,
        cast(discount_amount as decimal(16, 2)) as discount_amount,
        cast(cost_amount as decimal(16, 2)) as cost_amount,
        cast(gross_margin as decimal(16, 2)) as gross_margin,
        cast(returned_units as bigint) as returned_units,
        cast(refund_amount as decimal(16, 2)) as refund_amount,
        cast(gross_revenue - refund_amount as decimal(16, 2)) as net_revenue
    from aggregated
)

select * from final
{{ cluster_by_day('order_date') }}
