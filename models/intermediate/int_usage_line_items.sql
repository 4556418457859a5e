{#-
  Usage lines (DATA_CONTRACT semantics 4 to 6), as int_usage_rated_lines rates them: every line
  that has an amount. A line whose amount cannot be carried exactly (quantity_out_of_range,
  amount_out_of_range) has none and is left out; its invoice is held (int_usage_problems). A line
  with a negative quantity is here, at 0.00 (DECISIONLOG D57, D58).
-#}
{{ config(materialized='view') }}
with rated_lines as (

    select * from {{ ref('int_usage_rated_lines') }}

),

final as (

    select
        {{ billing.line_item_columns(through='amount') }},
        event_count,
        rate_type
    from rated_lines
    where usage_problem is null or usage_problem = 'negative_quantity'

)

select * from final
