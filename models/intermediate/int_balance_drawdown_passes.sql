{#-
  The drawdown of DATA_CONTRACT semantics 8, computed without recursion (DECISIONLOG D27).

  Per contract, balances draw in a fixed order (int_balances.drawdown_rank), invoices in period
  order, and within an invoice lines in order (starting_at, product_id, ending_before,
  line_item_id). So "invoice by invoice, balance by balance, line by line" equals "balance by
  balance; for each, line by line through all invoices in order": pass k only needs what passes
  1..k-1 left of each line.

  One pass per rank k (an unrolled loop; the count is read from the warehouse when the model runs):
    eligible_amount_k  = what is left of the line, if balance k may draw it (else 0)
    cumulative_k       = running sum of eligible_amount_k over the contract's lines in order
    drawn_amount_k     = least(amount_k, cumulative_k) - least(amount_k, cumulative_k - eligible_amount_k)
                         (a balance draws each eligible line until it is used up)
    residual_k         = residual_(k-1) - drawn_amount_k
  Each pass is a join and one window sum: portable SQL, no recursion, cost linear in the passes.
  Expiry needs no step: a line outside the access window is not eligible.

  The table has a fixed shape, whatever the number of passes: one row per (line, pass) whose
  balance may draw the line, with pass_number, balance_id and drawn_amount (0 when the balance was
  used up or the line already covered). The last pass is unpivoted by one cross join with the pass
  numbers (each pass is computed once).
-#}
-- depends_on: {{ ref('int_balances') }}
{%- set eligible_relation = ref('int_balance_eligible_charges') %}
{%- set pass_count = billing.balance_drawdown_pass_count(eligible_relation) %}
{%- set line_columns =
    'line_item_id, invoice_id, contract_id, period_starting_at, starting_at, ending_before, product_id, amount' %}
with eligible as (

    select * from {{ eligible_relation }}

),

charges as (

    select distinct {{ line_columns }}
    from eligible

),
{%- if pass_count == 0 %}

final as (

    select
        line_item_id, invoice_id, contract_id, period_starting_at,
        cast(null as {{ dbt.type_int() }}) as pass_number,
        cast(null as {{ dbt.type_string() }}) as balance_id,
        cast(null as {{ billing.type_money() }}) as drawn_amount
    from charges
    where 1 = 0

)
{%- else %}

pass_0 as (

    select
        charges.*,
        cast(amount as {{ billing.type_money() }}) as residual_0
    from charges

),
{% for k in range(1, pass_count + 1) %}
candidates_{{ k }} as (

    select
        previous.*,
        balance.balance_id as balance_id_{{ k }},
        balance.balance_amount as balance_amount_{{ k }},
        case when balance.balance_id is null then 0 else previous.residual_{{ k - 1 }} end as eligible_amount_{{ k }}
    from pass_{{ k - 1 }} as previous
    left join eligible as balance
        on previous.line_item_id = balance.line_item_id
        and balance.drawdown_rank = {{ k }}

),

cumulated_{{ k }} as (

    select
        candidates_{{ k }}.*,
        sum(eligible_amount_{{ k }}) over (
            partition by contract_id
            order by period_starting_at, starting_at, product_id, ending_before, line_item_id
            rows between unbounded preceding and current row
        ) as cumulative_{{ k }}
    from candidates_{{ k }}

),

drawn_{{ k }} as (

    select
        cumulated_{{ k }}.*,
        cast(case
            when balance_id_{{ k }} is null then 0
            else least(balance_amount_{{ k }}, cumulative_{{ k }})
                - least(balance_amount_{{ k }}, cumulative_{{ k }} - eligible_amount_{{ k }})
        end as {{ billing.type_money() }}) as drawn_amount_{{ k }}
    from cumulated_{{ k }}

),

pass_{{ k }} as (

    select
        {{ line_columns }},
        {%- for j in range(1, k + 1) %}
        balance_id_{{ j }}, drawn_amount_{{ j }},
        {%- endfor %}
        cast(residual_{{ k - 1 }} - drawn_amount_{{ k }} as {{ billing.type_money() }}) as residual_{{ k }}
    from drawn_{{ k }}

),
{% endfor %}
pass_numbers as (
{% for k in range(1, pass_count + 1) %}
    select {{ k }} as pass_number
    {% if not loop.last %}union all{% endif %}
{%- endfor %}

),

unpivoted as (

    select
        passes.line_item_id,
        passes.invoice_id,
        passes.contract_id,
        passes.period_starting_at,
        pass_numbers.pass_number,
        case pass_numbers.pass_number
            {%- for k in range(1, pass_count + 1) %}
            when {{ k }} then passes.balance_id_{{ k }}
            {%- endfor %}
        end as balance_id,
        case pass_numbers.pass_number
            {%- for k in range(1, pass_count + 1) %}
            when {{ k }} then passes.drawn_amount_{{ k }}
            {%- endfor %}
        end as drawn_amount
    from pass_{{ pass_count }} as passes
    cross join pass_numbers

),

final as (

    select
        line_item_id, invoice_id, contract_id, period_starting_at,
        cast(pass_number as {{ dbt.type_int() }}) as pass_number,
        balance_id,
        cast(drawn_amount as {{ billing.type_money() }}) as drawn_amount
    from unpivoted
    where balance_id is not null

)
{%- endif %}

select * from final
