with

redemptions as (
    select * from {{ ref('stg_marketing__promo_redemptions') }}
),

promo_codes as (
    select * from {{ ref('stg_marketing__promo_codes') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

final as (
    select
        redemptions.redemption_id,
        redemptions.promo_code,
        promo_codes.campaign_id,
        redemptions.order_id,
        redemptions.customer_id,
        redemptions.redeemed_at,
        redemptions.redemption_date,
        cast(redemptions.discount_amount as decimal(12, 2)) as discount_amount,
        promo_codes.discount_pct,
        cast(orders.subtotal as decimal(12, 2)) as order_subtotal,
        orders.order_status = 'cancelled' as is_order_cancelled,
        coalesce(
            redemptions.redemption_date >= promo_codes.valid_from
            and redemptions.redemption_date <= promo_codes.valid_to,
            false
        ) as is_within_validity
    from redemptions
    left join promo_codes
        on redemptions.promo_code = promo_codes.promo_code
    left join orders
        on redemptions.order_id = orders.order_id
)

select * from final
