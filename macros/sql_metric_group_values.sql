{#-
  An event's group values for a SQL metric (DECISIONLOG D23): a JSON object of its group-key
  columns, which the generated model computes as group_key_1, group_key_2, ... in the order of
  `keys`, by key name: sql_metric_group_values(['region']) -> {"region": group_key_1}.
-#}
{% macro sql_metric_group_values(keys) -%}
{%- set pairs = [] -%}
{%- for k in keys -%}{%- do pairs.append((k, 'group_key_' ~ loop.index)) -%}{%- endfor -%}
{{ billing.json_object(pairs) }}
{%- endmacro %}
