with

-- An event re-exported in a later partition supersedes the earlier copy.
latest as (
    {{ latest_per_key(
        source('shop', 'clickstream'),
        partition_by='event_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        event_id,
        session_id,
        customer_id,
        event_type,
        event_at,
        cast(event_at as date) as event_date,
        channel,
        product_id,
        search_query,
        order_id,
        -- Keyed token of the IP address (set by the raw loader): equal addresses, equal tokens, so fraud and
        -- security work can still group by it. No mart selects it or the user agent.
        ip_address as ip_address_token,
        user_agent,
        _source_file as source_file,
        _loaded_at as loaded_at
    from latest
)

select * from renamed
