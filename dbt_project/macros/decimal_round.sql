{#- A computed number rounded to a decimal(precision, scale) column the same way on every engine. DuckDB
    divides and averages decimals in double precision, Spark exactly in decimal, and the two round a double
    to a decimal differently (DuckDB from its binary value: 0.25125 -> 0.2512; Spark from its shortest
    decimal text: 0.2513), so a value ending in 5 just past the scale landed on different cents. Fixing the
    value to 8 more decimals first (exact for both: a double's error is far below that) and rounding that
    decimal half away from zero gives the same result on both engines, and the exact decimal answer. -#}
{% macro decimal_round(expr, precision, scale) -%}
    cast(cast({{ expr }} as decimal(38, {{ scale + 8 }})) as decimal({{ precision }}, {{ scale }}))
{%- endmacro %}
