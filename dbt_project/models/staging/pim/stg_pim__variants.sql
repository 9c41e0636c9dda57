with

source as (
    select * from {{ source('pim', 'variants') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by sku
            order by _source_file desc, _source_line desc
        ) as export_rank
    from source
),

renamed as (
    select
        sku,
        product_id,
        size as variant_size,
        barcode,
        _source_file as source_file
    from latest
    where export_rank = 1
)

select * from renamed
