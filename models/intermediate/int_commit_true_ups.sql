{#-
  Postpaid commit true-ups (DATA_CONTRACT semantics 8, DECISIONLOG D28): the shortfall (amount -
  consumed, if positive; int_commit_consumption) of a POSTPAID commit is billed as a `commit_true_up`
  line on the USAGE invoice of the last billing period that overlaps its commitment: the period
  holding its end. The line exists once that period has started; while its invoice is a DRAFT the
  shortfall is provisional.
  Once the true-up invoice is final, consumption that comes later (late usage in the window)
  lowers the shortfall: the difference from what was trued up so far is a `commit_true_up` line
  (negative) on the contract's next open USAGE invoice, so the commitment is never billed twice.
-#}
with commitments as (

    select * from {{ ref('int_commit_consumption') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

invoice_states as (

    select * from {{ ref('int_invoice_states') }}

),

due as (

    select
        commitments.*,
        periods.invoice_id as true_up_invoice_id,
        case
            when commitments.amount > commitments.consumed_amount
                then commitments.amount - commitments.consumed_amount
            else 0
        end
        - commitments.trued_up_amount as due_amount,
        invoice_states.is_final as is_true_up_invoice_final
    from commitments
    inner join periods
        on
            commitments.contract_id = periods.contract_id
            and commitments.commitment_ends_at > periods.period_starting_at
            and commitments.commitment_ends_at <= periods.period_ending_before
    inner join invoice_states
        on periods.invoice_id = invoice_states.invoice_id

),

placed as (

    select
        due.*,
        case when due.is_true_up_invoice_final then next_open.invoice_id else due.true_up_invoice_id end as invoice_id
    from due
    left join {{ ref('int_next_open_usage_invoices') }} as next_open
        on due.contract_id = next_open.contract_id
    where due.due_amount <> 0

),

final as (

    select
        {{ dbt.hash(dbt.concat(["placed.invoice_id", "'|commit_true_up|'", "placed.balance_id"])) }} as line_item_id,
        placed.invoice_id,
        placed.contract_id,
        placed.customer_id,
        'commit_true_up' as line_type,
        placed.product_id,
        placed.name,
        placed.access_starting_at as starting_at,
        placed.access_ending_before as ending_before,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        cast(placed.due_amount as {{ billing.type_decimal() }}) as unit_price,
        cast(placed.due_amount as {{ billing.type_money() }}) as amount,
        placed.commit_id,
        cast(null as {{ dbt.type_string() }}) as credit_id,
        placed.amount as commit_amount,
        placed.consumed_amount,
        placed.trued_up_amount
    from placed
    where placed.invoice_id is not null

)

select * from final
