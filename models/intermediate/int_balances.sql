{#-
  The balances of DATA_CONTRACT semantics 8: every credit and commit, one row each, with its place
  in the contract's drawdown order (DECISIONLOG D25):
    prepaid commits and credits first, postpaid commits after them (they count what is left);
    then priority (lower first, empty last);
    then credits and complimentary commits (no invoice_at) before paid ones;
    then the earliest access_ending_before (empty last);
    then balance_id.
-#}
with commits as (

    select * from {{ ref('stg_contract_commits') }}

),

credits as (

    select * from {{ ref('stg_contract_credits') }}

),

contracts as (

    select * from {{ ref('stg_contracts') }}

),

unioned as (

    select
        commit_id as balance_id,
        case when commit_type = 'POSTPAID' then 'POSTPAID_COMMIT' else 'PREPAID_COMMIT' end as balance_type,
        contract_id,
        product_id,
        coalesce(name, commit_id) as name,
        amount,
        access_starting_at,
        access_ending_before,
        case when commit_type = 'POSTPAID' then null else invoice_at end as invoice_at,
        case when commit_type = 'POSTPAID' then null else invoice_amount end as invoice_amount,
        applicable_product_ids,
        applicable_product_tags,
        priority,
        commit_id,
        cast(null as {{ dbt.type_string() }}) as credit_id
    from commits

    union all

    select
        credit_id as balance_id,
        'CREDIT' as balance_type,
        contract_id,
        product_id,
        coalesce(name, credit_id) as name,
        amount,
        access_starting_at,
        access_ending_before,
        cast(null as {{ dbt.type_timestamp() }}) as invoice_at,
        cast(null as {{ billing.type_decimal() }}) as invoice_amount,
        applicable_product_ids,
        applicable_product_tags,
        priority,
        cast(null as {{ dbt.type_string() }}) as commit_id,
        credit_id
    from credits

),

classified as (

    select
        unioned.*,
        contracts.customer_id,
        unioned.balance_type = 'POSTPAID_COMMIT' as is_postpaid,
        unioned.balance_type = 'PREPAID_COMMIT' and unioned.invoice_at is not null as is_paid,
        unioned.applicable_product_ids is null and unioned.applicable_product_tags is null as applies_to_all_products
    from unioned
    inner join contracts
        on unioned.contract_id = contracts.contract_id

),

final as (

    select
        classified.*,
        row_number() over (
            partition by classified.contract_id
            order by
                case when classified.is_postpaid then 1 else 0 end,
                case when classified.priority is null then 1 else 0 end,
                classified.priority,
                case when classified.is_paid then 1 else 0 end,
                case when classified.access_ending_before is null then 1 else 0 end,
                classified.access_ending_before,
                classified.balance_id
        ) as drawdown_rank
    from classified

)

select * from final
