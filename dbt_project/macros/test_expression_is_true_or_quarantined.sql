{#- expression_is_true, except on rows that a record held back by the raw loader leaves incomplete (its key in
    quarantine, see quarantine_explained.sql): e.g. an order whose subtotal misses a quarantined line. -#}
{% test expression_is_true_or_quarantined(model, expression, quarantined, arrival_date=none) %}

select *
from {{ model }}
where not ({{ expression }})
    and not {{ explained_by_quarantine(quarantined, none) }}
    and not ({{ awaiting_late_arrival(arrival_date) }})

{% endtest %}
