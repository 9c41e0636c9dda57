with

latest as (
    {{ latest_per_key(
        source('marketing', 'campaign_audiences'),
        partition_by='campaign_id, customer_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        campaign_id,
        customer_id,
        assigned_group,
        _source_file as source_file
    from latest
)

select * from renamed
