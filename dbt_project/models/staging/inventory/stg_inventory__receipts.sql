with

-- A purchase order is received once; a re-export of the receipt supersedes the earlier copy.
latest as (
    {{ latest_per_key(
        source('inventory', 'receipts'),
        partition_by='po_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        po_id,
        received_on,
        quantity as received_units,
        _source_file as source_file
    from latest
)

select * from renamed
