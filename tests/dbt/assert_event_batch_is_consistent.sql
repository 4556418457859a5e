{#-
  The events this build added or recomputed are consistent: every transaction_id has one winner
  (a well-formed row that is not a duplicate), an event matches each metric at most once, and
  every format rejection reason is one the contract lists. Checked for the rows loaded in the last
  build's batch (everything after a first or full build), so the test's cost grows with new data,
  like the build's (DECISIONLOG D32). The ids' earlier copies are found wherever they are; metric
  matches are checked within the batch (each comes from its id's winning row, in the same batch).
-#}
with batch_rows as (

    select *
    from {{ ref('int_events_deduplicated') }}
    where loaded_at > {{ billing.tested_events_loaded_after() }}
    union all
    select *
    from {{ ref('int_events_deduplicated') }}
    where loaded_at is null

),

batch_ids as (

    select distinct transaction_id
    from batch_rows
    where format_rejection_reason is null

),

repeated_winners as (

    select
        transaction_id,
        'transaction_id has ' || cast(count(*) as {{ dbt.type_string() }}) || ' winning rows' as problem
    from {{ ref('int_events_deduplicated') }}
    where
        format_rejection_reason is null
        and not is_duplicate
        and transaction_id in (select batch_ids.transaction_id from batch_ids)
    group by transaction_id
    having count(*) <> 1

),

batch_matches as (

    {#- the metric matches of the batch's rows: they carry their event's loaded_at -#}
    select *
    from {{ ref('int_metric_events') }}
    where loaded_at > {{ billing.tested_events_loaded_after() }}
    union all
    select *
    from {{ ref('int_metric_events') }}
    where loaded_at is null

),

repeated_matches as (

    select
        transaction_id,
        'matches metric ' || billable_metric || ' more than once' as problem
    from batch_matches
    group by transaction_id, billable_metric
    having count(*) > 1

),

matches_of_losers as (

    {#- after an incremental build, matches are checked within the batch: each must come from its
        id's winning row, which is in the same batch; with one winner per id (above), no id then
        matches a metric twice across batches either (a full check needs nothing more) -#}
    select
        batch_matches.transaction_id,
        'matches metric ' || batch_matches.billable_metric
        || ' but its row is not the winning copy' as problem
    from batch_matches
    left join batch_rows as winners
        on
            batch_matches.transaction_id = winners.transaction_id
            and (
                batch_matches.loaded_at = winners.loaded_at
                or (batch_matches.loaded_at is null and winners.loaded_at is null)
            )
            and winners.format_rejection_reason is null
            and not winners.is_duplicate
    where winners.transaction_id is null

),

unknown_reasons as (

    select
        transaction_id,
        'unknown format_rejection_reason ' || format_rejection_reason as problem
    from batch_rows
    where format_rejection_reason not in (
        'missing_transaction_id', 'missing_customer_id', 'missing_event_type',
        'invalid_timestamp', 'future_timestamp', 'invalid_properties'
    )

)

select * from repeated_winners
union all
select * from repeated_matches
union all
select * from matches_of_losers
union all
select * from unknown_reasons
