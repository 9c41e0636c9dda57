with

latest as (
    {{ latest_per_key(
        source('external', 'competitor_prices'),
        partition_by='competitor, product_id, observed_on',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        competitor,
        product_id,
        observed_on,
        price as competitor_price,
        _source_file as source_file
    from latest
)

select * from renamed
