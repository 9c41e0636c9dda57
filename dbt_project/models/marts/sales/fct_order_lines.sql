-- Heavy fact: rebuilt by order day (see macros/incremental.sql).
{{ config(
    materialized='incremental',
    tags=['daily_fact'],
    incremental_strategy=incremental_strategy(),
    unique_key='order_date',
    partition_by=['order_date'],
    on_schema_change='fail'
) }}

with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
    where {{ incremental_window('order_date') }}
),

products as (
    select * from {{ ref('stg_pim__products') }}
),

final as (
    select
        {{ dbt.concat([
            "order_lines.order_id",
            "'-'",
            "cast(order_lines.line_number as " ~ dbt.type_string() ~ ")",
        ]) }} as order_line_id,
        order_lines.order_id,
        order_lines.line_number,
        orders.customer_id,
        order_lines.product_id,
        order_lines.sku,
        orders.order_date,
        orders.channel,
        orders.order_status = 'cancelled' as is_cancelled,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.discount_amount,
        order_lines.line_amount,
        cast(order_lines.quantity * products.unit_cost as decimal(14, 2)) as cost_amount,
        cast(
            order_lines.line_amount - order_lines.quantity * products.unit_cost as decimal(14, 2)
        ) as gross_margin
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.product_id = products.product_id
)

select * from final
{{ cluster_by_day('order_date') }}
