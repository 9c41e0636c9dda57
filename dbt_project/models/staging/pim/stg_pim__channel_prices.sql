with

-- Each monthly catalog export repeats every price; the latest export holds the current one.
latest as (
    {{ latest_per_key(
        source('pim', 'channel_prices'),
        partition_by='sku, channel',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        sku,
        channel as sales_channel,
        list_price as channel_list_price,
        currency as currency_code,
        _source_file as source_file
    from latest
)

select * from renamed
