with

latest as (
    {{ latest_per_key(
        source('crm', 'support_conversations'),
        partition_by='conversation_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        conversation_id,
        customer_id,
        order_id,
        channel as support_channel,
        opened_at,
        closed_at,
        cast(opened_at as date) as opened_date,
        resolution,
        transcript,
        _source_file as source_file
    from latest
)

select * from renamed
