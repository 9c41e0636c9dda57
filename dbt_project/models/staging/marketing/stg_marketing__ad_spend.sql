with

latest as (
    {{ latest_per_key(
        source('marketing', 'ad_spend'),
        partition_by='spend_date, ad_channel',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        spend_date,
        ad_channel,
        campaign_id,
        spend as spend_amount,
        impressions,
        clicks,
        _source_file as source_file
    from latest
)

select * from renamed
