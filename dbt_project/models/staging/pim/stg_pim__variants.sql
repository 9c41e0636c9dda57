with

latest as (
    {{ latest_per_key(
        source('pim', 'variants'),
        partition_by='sku',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        sku,
        product_id,
        size as variant_size,
        barcode,
        _source_file as source_file
    from latest
)

select * from renamed
