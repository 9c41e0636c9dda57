-- IP addresses arrive as keyed tokens (raw loader); staging only, never selected into a mart.
with

latest as (
    {{ latest_per_key(
        source('security', 'login_events'),
        partition_by='login_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        login_id,
        account_id,
        attempted_at,
        cast(attempted_at as date) as attempted_date,
        ip_address as ip_address_token,
        succeeded as is_successful,
        _source_file as source_file
    from latest
)

select * from renamed
