with

-- A re-exported change (a later partition) supersedes the earlier copy of the same product and day.
latest as (
    {{ latest_per_key(
        source('pim', 'price_changes'),
        partition_by='product_id, effective_from',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        product_id,
        effective_from as effective_from_date,
        list_price,
        _source_file as source_file
    from latest
)

select * from renamed
