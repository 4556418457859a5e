{#-
  Postpaid commit true-ups (DATA_CONTRACT semantics 8): the shortfall (amount - consumed, if
  positive) of a POSTPAID commit is billed as a `commit_true_up` line on the USAGE invoice of the
  last billing period that overlaps its access window: the period holding the end of the window
  (or of the contract, if that comes first). Consumption is what the commit counted of the eligible
  charges left after prepaid commits and credits, on final invoices (stored) and open ones. The line exists once that
  period has started; while its invoice is a DRAFT the shortfall is provisional.
-#}
with balances as (

    select * from {{ ref('int_balances') }}
    where is_postpaid

),

drawdowns as (

    select * from {{ ref('int_balance_drawdowns') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

periods as (

    select * from {{ ref('int_contract_billing_periods') }}

),

consumed as (

    {#- what final invoices drew (stored) and what open invoices draw now -#}
    select balance_id, sum(drawn_amount) as consumed_amount
    from (
        select balance_id, drawn_amount from ({{ billing.stored('finalized_balance_drawdowns') }}) as stored
        union all
        select balance_id, drawn_amount from drawdowns
    ) as drawn
    group by balance_id

),

commitments as (

    select
        balances.*,
        coalesce(consumed.consumed_amount, 0) as consumed_amount,
        case
            when contracts.ending_before is not null and contracts.ending_before < balances.access_ending_before
                then contracts.ending_before
            else balances.access_ending_before
        end as commitment_ends_at
    from balances
    inner join contracts
        on balances.contract_id = contracts.contract_id
    left join consumed
        on balances.balance_id = consumed.balance_id

),

final as (

    select
        {{ dbt.hash(dbt.concat(["periods.invoice_id", "'|commit_true_up|'", "commitments.balance_id"])) }} as line_item_id,
        periods.invoice_id,
        commitments.contract_id,
        commitments.customer_id,
        'commit_true_up' as line_type,
        commitments.product_id,
        commitments.name,
        commitments.access_starting_at as starting_at,
        commitments.access_ending_before as ending_before,
        cast(1 as {{ billing.type_decimal() }}) as quantity,
        cast(commitments.amount - commitments.consumed_amount as {{ billing.type_decimal() }}) as unit_price,
        cast(commitments.amount - commitments.consumed_amount as {{ billing.type_money() }}) as amount,
        commitments.commit_id,
        cast(null as {{ dbt.type_string() }}) as credit_id,
        commitments.amount as commit_amount,
        commitments.consumed_amount,
        periods.period_ending_before as issued_at,
        periods.finalizes_at
    from commitments
    inner join periods
        on commitments.contract_id = periods.contract_id
        and periods.period_starting_at < commitments.commitment_ends_at
        and commitments.commitment_ends_at <= periods.period_ending_before
    where commitments.amount > commitments.consumed_amount

)

select * from final
