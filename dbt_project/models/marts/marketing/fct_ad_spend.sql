with

ad_spend as (
    select * from {{ ref('stg_marketing__ad_spend') }}
),

final as (
    select
        {{ dbt.concat([
            "cast(spend_date as " ~ dbt.type_string() ~ ")",
            "'-'",
            "ad_channel",
        ]) }} as ad_spend_key,
        spend_date,
        ad_channel,
        campaign_id,
        cast(spend_amount as decimal(12, 2)) as spend_amount,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(clicks as double) / nullif(impressions, 0) as click_through_rate,
        {{ decimal_round("spend_amount / nullif(clicks, 0)", 12, 4) }} as cost_per_click
    from ad_spend
)

select * from final
