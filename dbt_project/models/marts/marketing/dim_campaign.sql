with

campaigns as (
    select * from {{ ref('stg_marketing__campaigns') }}
),

promo_codes as (
    select * from {{ ref('stg_marketing__promo_codes') }}
),

-- A campaign has one promo code today; should it get several, the first (alphabetically) is shown and
-- promo_code_count says how many there are.
ranked_codes as (
    select
        campaign_id,
        promo_code,
        discount_pct,
        row_number() over (partition by campaign_id order by promo_code) as code_rank,
        count(*) over (partition by campaign_id) as code_count
    from promo_codes
),

final as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_channel,
        campaigns.target_segment,
        campaigns.starts_on,
        campaigns.ends_on,
        cast({{ dbt.datediff('campaigns.starts_on', 'campaigns.ends_on', 'day') }} + 1 as integer) as duration_days, -- noqa: LT05
        campaigns.holdout_share,
        cast(campaigns.budget_amount as decimal(12, 2)) as budget_amount,
        ranked_codes.promo_code,
        ranked_codes.discount_pct as promo_discount_pct,
        cast(coalesce(ranked_codes.code_count, 0) as integer) as promo_code_count
    from campaigns
    left join ranked_codes
        on
            campaigns.campaign_id = ranked_codes.campaign_id
            and ranked_codes.code_rank = 1
)

select * from final
