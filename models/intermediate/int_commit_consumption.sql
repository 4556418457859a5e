{#-
  What each POSTPAID commit has consumed and been trued up for so far (DATA_CONTRACT semantics 8,
  DECISIONLOG D28), and when its commitment ends: the end of its access window, or of the contract if
  that comes first. Consumption is what the commit counted of the eligible charges left after prepaid
  commits and credits, on final invoices (stored drawdowns) and open ones (this build's drawdowns);
  trued up is the sum of the commit_true_up lines already stored. int_commit_true_ups bills the rest.
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

stored_lines as (

    select * from {{ ref('int_stored_invoice_line_items') }}

),

stored_drawdowns as (

    select * from {{ ref('int_stored_balance_drawdowns') }}

),

consumed as (

    select
        balance_id,
        sum(drawn_amount) as consumed_amount
    from (
        select
            balance_id,
            drawn_amount
        from stored_drawdowns
        union all
        select
            balance_id,
            drawn_amount
        from drawdowns
    ) as drawn
    group by balance_id

),

trued_up as (

    select
        commit_id as balance_id,
        sum(amount) as trued_up_amount
    from stored_lines
    where line_type = 'commit_true_up'
    group by commit_id

),

final as (

    select
        balances.balance_id,
        balances.commit_id,
        balances.contract_id,
        balances.customer_id,
        balances.product_id,
        balances.name,
        balances.amount,
        balances.access_starting_at,
        balances.access_ending_before,
        coalesce(consumed.consumed_amount, 0) as consumed_amount,
        coalesce(trued_up.trued_up_amount, 0) as trued_up_amount,
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
    left join trued_up
        on balances.balance_id = trued_up.balance_id

)

select * from final
