with

-- A re-exported purchase order (a later partition) supersedes the earlier copy.
latest as (
    {{ latest_per_key(
        source('inventory', 'purchase_orders'),
        partition_by='po_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        po_id,
        supplier_id,
        warehouse_id,
        sku,
        ordered_on,
        expected_on,
        quantity as ordered_units,
        _source_file as source_file
    from latest
)

select * from renamed
