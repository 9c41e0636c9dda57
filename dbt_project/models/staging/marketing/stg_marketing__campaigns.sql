with

latest as (
    {{ latest_per_key(
        source('marketing', 'campaigns'),
        partition_by='campaign_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        campaign_id,
        campaign_name,
        channel as campaign_channel,
        target_segment,
        starts_on,
        ends_on,
        holdout_share,
        budget as budget_amount,
        _source_file as source_file
    from latest
)

select * from renamed
