with

latest as (
    {{ latest_per_key(
        source('marketing', 'promo_redemptions'),
        partition_by='redemption_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        redemption_id,
        promo_code,
        order_id,
        customer_id,
        redeemed_at,
        cast(redeemed_at as date) as redemption_date,
        discount as discount_amount,
        _source_file as source_file
    from latest
)

select * from renamed
