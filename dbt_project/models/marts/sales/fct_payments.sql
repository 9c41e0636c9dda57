-- On DuckDB incremental by payment (see landed_in_window): a windowed run rebuilds the payments its days'
-- extracts touched.
{{ config(
    materialized='table' if target.type == 'spark' else 'incremental',
    incremental_strategy=none if target.type == 'spark' else 'delete+insert',
    unique_key=none if target.type == 'spark' else 'payment_id',
    on_schema_change='fail'
) }}

with

payments as (
    select * from {{ ref('stg_shop__payments') }}
    where {{ landed_in_window('source_file') }}
),

final as (
    select
        payment_id,
        order_id,
        payment_method,
        cast(payment_amount as decimal(12, 2)) as payment_amount,
        payment_status,
        payment_status = 'captured' as is_captured,
        authorized_at,
        cast(authorized_at as date) as authorized_date
    from payments
)

select * from final
