with

latest as (
    {{ latest_per_key(
        source('marketing', 'promotions'),
        partition_by='promotion_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        promotion_id,
        scope as promotion_scope,
        category_id,
        product_id,
        starts_on,
        ends_on,
        discount_pct,
        _source_file as source_file
    from latest
)

select * from renamed
