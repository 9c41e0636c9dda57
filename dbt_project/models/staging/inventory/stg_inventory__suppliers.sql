with

-- Supplier master data is exported whole; the latest export describes a supplier now.
latest as (
    {{ latest_per_key(
        source('inventory', 'suppliers'),
        partition_by='supplier_id',
        order_by='_source_file desc, _source_line desc'
    ) }}
),

renamed as (
    select
        supplier_id,
        supplier_name,
        country_code,
        contract_lead_time_days,
        _source_file as source_file
    from latest
)

select * from renamed
