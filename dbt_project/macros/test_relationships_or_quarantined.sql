{#- dbt's relationships test, except that a child whose parent was held back by the raw loader is expected:
    its parent's key is in quarantine (see quarantine_explained.sql), or it is dated within the late-arrival
    window of a run that stops at max_date (`arrival_date`: the child's date column). Any other orphan fails,
    listed with the rows. -#}
{% test relationships_or_quarantined(model, column_name, to, field, quarantined, arrival_date=none) %}

with

child as (
    select * from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as parent_key from {{ to }}
),

orphans as (
    select child.*
    from child
    left join parent
        on child.{{ column_name }} = parent.parent_key
    where parent.parent_key is null
)

select *
from orphans
where not {{ explained_by_quarantine(quarantined, column_name) }}
    and not ({{ awaiting_late_arrival(arrival_date) }})

{% endtest %}
