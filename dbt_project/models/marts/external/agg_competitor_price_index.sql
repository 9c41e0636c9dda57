-- Competitor price index per product category and week: the mean, over every scraped observation, of the
-- competitor's price divided by our product's list price (1.0 = same price, 0.9 = competitors 10 % cheaper).
-- Our price is the product's current list price from the latest catalog export; list prices move during
-- the year (pim price changes), so a week's index mixes competitor moves with our own past repricing.
with

competitor_prices as (
    select * from {{ ref('stg_external__competitor_prices') }}
),

products as (
    select * from {{ ref('stg_pim__products') }}
),

observations as (
    select
        products.category_id,
        cast({{ dbt.date_trunc('week', 'competitor_prices.observed_on') }} as date) as week_start,
        competitor_prices.competitor,
        competitor_prices.product_id,
        competitor_prices.competitor_price,
        products.list_price,
        cast(competitor_prices.competitor_price as double)
        / cast(products.list_price as double) as price_ratio
    from competitor_prices
    inner join products
        on competitor_prices.product_id = products.product_id
    where products.list_price > 0
),

weekly as (
    select
        category_id,
        week_start,
        count(*) as observations,
        count(distinct product_id) as products_observed,
        count(distinct competitor) as competitors_observed,
        avg(competitor_price) as avg_competitor_price,
        avg(list_price) as avg_our_list_price,
        {{ exact_avg('price_ratio', 12) }} as price_index,
        min(price_ratio) as min_price_ratio,
        max(price_ratio) as max_price_ratio,
        avg(case when price_ratio < 1 then 1 else 0 end) as share_competitor_cheaper
    from observations
    group by category_id, week_start
),

final as (
    select
        {{ dbt.concat([
            "category_id",
            "'-'",
            "cast(week_start as " ~ dbt.type_string() ~ ")",
        ]) }} as price_index_key,
        category_id,
        week_start,
        cast(observations as bigint) as observations,
        cast(products_observed as bigint) as products_observed,
        cast(competitors_observed as bigint) as competitors_observed,
        cast(avg_competitor_price as decimal(12, 2)) as avg_competitor_price,
        {{ decimal_round("avg_our_list_price", 12, 2) }} as avg_our_list_price,
        cast(price_index as double) as price_index,
        cast(min_price_ratio as double) as min_price_ratio,
        cast(max_price_ratio as double) as max_price_ratio,
        cast(share_competitor_cheaper as double) as share_competitor_cheaper
    from weekly
)

select * from final
