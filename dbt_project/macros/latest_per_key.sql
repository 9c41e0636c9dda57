{#- The latest row per key of a relation: staging models read raw extracts in which a key can arrive
    again (a re-export in a later partition, a new profile version). Portable (row_number, no qualify);
    the rank column `_recency_rank` stays and is dropped by the model's explicit select. -#}
{% macro latest_per_key(relation, partition_by, order_by) %}
    select *
    from (
        select
            *,
            row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as _recency_rank
        from {{ relation }}
    ) as ranked
    where _recency_rank = 1
{% endmacro %}
