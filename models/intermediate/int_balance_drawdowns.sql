{#-
  What each balance drew from each charge line: int_balance_drawdown_passes unpivoted, one row per
  (line, balance) with a positive amount. Postpaid commits appear too: for them the amount is the
  consumption counted towards the commitment, not a reduction of the invoice.
-#}
{%- set passes = ref('int_balance_drawdown_passes') %}
{%- set pass_count = billing.balance_drawdown_passes_in(passes) %}
{%- if pass_count == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as line_item_id,
    cast(null as {{ dbt.type_string() }}) as invoice_id,
    cast(null as {{ dbt.type_string() }}) as contract_id,
    cast(null as {{ dbt.type_timestamp() }}) as period_starting_at,
    cast(null as {{ dbt.type_string() }}) as balance_id,
    cast(null as {{ billing.type_money() }}) as drawn_amount
from {{ passes }}
where 1 = 0
{%- else %}
with passes as (

    select * from {{ passes }}

),

unpivoted as (
{% for k in range(1, pass_count + 1) %}
    select line_item_id, invoice_id, contract_id, period_starting_at,
        balance_id_{{ k }} as balance_id, drawn_amount_{{ k }} as drawn_amount
    from passes
    where drawn_amount_{{ k }} > 0
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

final as (

    select * from unpivoted

)

select * from final
{%- endif %}
