with

-- A return exported again (a later partition) supersedes the earlier copy.
latest as (
    {{ latest_per_key(
        source('shop', 'returns'),
        partition_by='return_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        return_id,
        order_id,
        line_number,
        quantity as returned_quantity,
        reason as return_reason,
        requested_at,
        received_at,
        refund_amount,
        _source_file as source_file
    from latest
)

select * from renamed
