{#- Aggregates that give the same bits on every run. A parallel sum of doubles depends on the order rows
    arrive in, so a rerun can change the last digit of an avg or stddev and with it the table checksum.
    Summing exact types (integers, decimals) first and going to double only at the end avoids that. -#}

{#- Sample standard deviation of an integer expression (null when fewer than two values), written out
    from integer sums: sqrt((n·Σx² − (Σx)²) / (n(n − 1))). -#}
{% macro exact_stddev_samp(integer_expr) -%}
    case
        when count({{ integer_expr }}) > 1
            then sqrt(
                cast(
                    count({{ integer_expr }}) * sum(cast({{ integer_expr }} as bigint) * cast({{ integer_expr }} as bigint))
                    - sum(cast({{ integer_expr }} as bigint)) * sum(cast({{ integer_expr }} as bigint))
                    as double
                )
                / (count({{ integer_expr }}) * (count({{ integer_expr }}) - 1))
            )
    end
{%- endmacro %}

{#- Mean of a double expression, exact up to `scale` decimals: each value is fixed to a decimal first. -#}
{% macro exact_avg(double_expr, scale=6) -%}
    cast(avg(cast({{ double_expr }} as decimal(28, {{ scale }}))) as double)
{%- endmacro %}
