{#-
  Column rules of seeds/contract_commits.csv and seeds/contract_credits.csv, row by row: (seed,
  row_key, problem). The rules both seeds share are in macros/balance_checks.sql.
-#}
with commit_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_commits'),
        ['access_starting_at', 'access_ending_before', 'invoice_at']
    ) }}

),

credit_timestamps as (

    {{ billing.select_utc_timestamps(
        billing.catalog_relation('contract_credits'),
        ['access_starting_at', 'access_ending_before']
    ) }}

),

column_problems as (

    {{ billing.balance_problems('contract_commits', 'commit_id', 'commit_timestamps', [
        [billing.bad_enum('type', ['PREPAID', 'POSTPAID'], required=true), 'type must be PREPAID or POSTPAID'],
        [billing.bad_timestamp('invoice_at'), 'invoice_at is not a valid timestamp'],
        [billing.bad_decimal('invoice_amount'), 'invoice_amount is not a non-negative number'],
        [
            "upper(trim(type)) = 'POSTPAID' and " ~ billing.missing('access_ending_before'),
            'a POSTPAID commit needs access_ending_before (its true-up date)'
        ],
    ] + billing.number_rules('invoice_amount', 'amount')) }}
    union all
    {{ billing.minor_unit_problems('contract_commits', 'commit_id', 'invoice_amount') }}
    union all
    {{ billing.balance_problems('contract_credits', 'credit_id', 'credit_timestamps') }}

),

final as (

    select * from column_problems

)

select * from final
