{#- not_null, except on rows whose value comes from a record the raw loader held back (its key in quarantine,
    see quarantine_explained.sql): e.g. the product of a return whose order line was quarantined. -#}
{% test not_null_or_quarantined(model, column_name, quarantined, arrival_date=none) %}

select *
from {{ model }}
where {{ column_name }} is null
    and not {{ explained_by_quarantine(quarantined, column_name) }}
    and not ({{ awaiting_late_arrival(arrival_date) }})

{% endtest %}
