with

latest as (
    {{ latest_per_key(
        source('marketing', 'promo_codes'),
        partition_by='promo_code',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        promo_code,
        campaign_id,
        discount_pct,
        valid_from,
        valid_to,
        _source_file as source_file
    from latest
)

select * from renamed
