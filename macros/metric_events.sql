{#- The shape of int_metric_events when no billable metric is defined. -#}
{% macro empty_metric_events() -%}
select
    cast(null as {{ dbt.type_string() }}) as transaction_id,
    cast(null as {{ dbt.type_string() }}) as sent_customer_id,
    cast(null as {{ dbt.type_string() }}) as customer_id,
    cast(null as {{ dbt.type_string() }}) as contract_id,
    cast(null as {{ dbt.type_timestamp() }}) as event_at,
    cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
    cast(null as {{ dbt.type_string() }}) as billable_metric,
    cast(null as {{ dbt.type_string() }}) as aggregation,
    cast(null as {{ billing.type_decimal() }}) as metric_value,
    cast(null as {{ dbt.type_string() }}) as unique_value,
    cast(null as {{ dbt.type_string() }}) as group_values,
    false as is_non_numeric,
    cast(null as {{ dbt.type_string() }}) as value_rejection
where 1 = 0
{%- endmacro %}
