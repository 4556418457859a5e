{#-
  The events this build added or recomputed are consistent: every transaction_id has one winner
  (a well-formed row that is not a duplicate), an event matches each metric at most once, and
  every format rejection reason is one the contract lists. Checked for the rows loaded in the last
  build's batch (everything after a first or full build), so the test's cost grows with new data,
  like the build's (DECISIONLOG D32). The ids' earlier copies are found wherever they are.
-#}
{%- set loaded_after = billing.tested_events_loaded_after() -%}
with batch_rows as (

    select *
    from {{ ref('int_events_deduplicated') }}
    {%- if loaded_after is not none %}
    where loaded_at > {{ billing._timestamp_literal(loaded_after) }} or loaded_at is null
    {%- endif %}

),

batch_ids as (

    select distinct transaction_id
    from batch_rows
    where format_rejection_reason is null

),

repeated_winners as (

    select transaction_id, 'transaction_id has ' || cast(count(*) as {{ dbt.type_string() }}) || ' winning rows' as problem
    from {{ ref('int_events_deduplicated') }}
    where format_rejection_reason is null
        and not is_duplicate
        and transaction_id in (select transaction_id from batch_ids)
    group by transaction_id
    having count(*) <> 1

),

repeated_matches as (

    select transaction_id, 'matches metric ' || billable_metric || ' more than once' as problem
    from {{ ref('int_metric_events') }}
    where transaction_id in (select transaction_id from batch_ids)
    group by transaction_id, billable_metric
    having count(*) > 1

),

unknown_reasons as (

    select transaction_id, 'unknown format_rejection_reason ' || format_rejection_reason as problem
    from batch_rows
    where format_rejection_reason not in ('missing_transaction_id', 'missing_customer_id', 'missing_event_type',
                                          'invalid_timestamp', 'future_timestamp', 'invalid_properties')

)

select * from repeated_winners
union all
select * from repeated_matches
union all
select * from unknown_reasons
