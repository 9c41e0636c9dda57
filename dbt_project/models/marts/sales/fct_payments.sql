with

payments as (
    select * from {{ ref('stg_shop__payments') }}
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
