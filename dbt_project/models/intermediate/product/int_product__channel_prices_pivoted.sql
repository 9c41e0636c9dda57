with

prices as (
    select * from {{ ref('stg_pim__channel_prices') }}
),

-- One column per channel: the catalog knows three channels (a contract enum), so a fixed pivot is safe.
pivoted as (
    select
        sku,
        max(case when sales_channel = 'web' then channel_list_price end) as web_price,
        max(case when sales_channel = 'app' then channel_list_price end) as app_price,
        max(case when sales_channel = 'marketplace' then channel_list_price end) as marketplace_price
    from prices
    group by sku
)

select * from pivoted
