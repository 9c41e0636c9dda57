-- On DuckDB incremental by return (see landed_in_window): a windowed run rebuilds the returns its days'
-- extracts touched, and those of orders or order lines they touched.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'return_id',
    on_schema_change='fail'
) }}

{%- set by_key = rebuilds_by_key() %}

with

returns as (
    select * from {{ ref('stg_shop__returns') }}
    {% if by_key %}
        where
            {{ landed_in_window('source_file') }}
            or order_id in ({{ keys_landed_in_window('order_id', [
                ref('stg_shop__orders'), ref('stg_shop__order_lines')
            ]) }})
    {% endif %}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

final as (
    select
        returns.return_id,
        {{ dbt.concat([
            "returns.order_id",
            "'-'",
            "cast(returns.line_number as " ~ dbt.type_string() ~ ")",
        ]) }} as order_line_id,
        returns.order_id,
        returns.line_number,
        orders.customer_id,
        order_lines.product_id,
        order_lines.sku,
        orders.channel,
        orders.ship_region_code,
        orders.order_date,
        returns.return_reason,
        returns.requested_at,
        cast(returns.requested_at as date) as requested_date,
        returns.received_at,
        returns.received_at is not null as is_received,
        cast(
            {{ dbt.datediff('orders.order_date', 'cast(returns.requested_at as date)', 'day') }}
            as integer
        ) as days_order_to_request,
        returns.returned_quantity,
        order_lines.line_amount,
        cast(returns.refund_amount as decimal(12, 2)) as refund_amount
    from returns
    left join order_lines
        on
            returns.order_id = order_lines.order_id
            and returns.line_number = order_lines.line_number
    left join orders
        on returns.order_id = orders.order_id
)

select * from final
