{#-
  The events this build added or recomputed are consistent: every transaction_id has one winner
  (a well-formed row that is not a duplicate), an event matches each metric at most once, each match
  comes from its id's winning row, fct_event_outcomes counts as many metric matches as
  int_metric_events holds (it evaluates the metrics' conditions itself, DECISIONLOG D84: compared in
  total, a scan of the outcomes' counts, rather than per id, which would add the outcomes to the
  grouping below), and every format rejection reason is one the contract lists.
  Checked for the rows loaded in the last build's batch (everything after a first or full build), so
  the test's cost grows with new data, like the build's (DECISIONLOG D32). The ids' earlier winners
  are found wherever they are; metric matches are checked within the batch (each comes from its id's
  winning row, in the same batch; with one winner per id, no id then matches a metric twice across
  batches either).

  Memory (DECISIONLOG D82): after a first build the batch is the whole history, so the checks are
  one grouping per transaction_id of the batch's rows and of its matches (grouped per metric first),
  not a join, a semi-join and two groupings side by side: those ran out of DuckDB's 6 GB at 100 M
  events, though each alone fits. batch_ids, one row per id, is read four times: its ids' keys are
  looked up in the history (DECISIONLOG D85: by transaction_key, whose value each batch row is
  checked to hold; not on a first build, which has no earlier rows), the rows found are joined to it,
  the result is joined back to it, and its match rows are added up. Rows without a loaded_at compare
  as the earliest instant. The test runs after the models that read the whole history on a first
  build (fct_event_outcomes, then the readers of int_metered_events), not beside them.
-#}
-- depends_on: {{ ref('fct_event_outcomes') }}
-- depends_on: {{ ref('fct_usage_daily') }}
-- depends_on: {{ ref('int_segment_quantities') }}
-- depends_on: {{ ref('int_event_group_values') }}
with batch_match_groups as (

    {#- the batch's matches per event and metric: more than one is a repeated match -#}
    select
        transaction_id,
        billable_metric,
        count(*) as matches,
        min(coalesce(loaded_at, {{ billing._min_timestamp() }})) as first_match_load,
        max(coalesce(loaded_at, {{ billing._min_timestamp() }})) as last_match_load
    from ({{ billing.tested_rows(ref('int_metric_events')) }}) as tested
    group by transaction_id, billable_metric

),

batch_rows as (

    select
        transaction_id,
        case when is_duplicate then 0 else 1 end as winners,
        case when not is_duplicate then coalesce(loaded_at, {{ billing._min_timestamp() }}) end as winner_load,
        cast(null as {{ dbt.type_string() }}) as repeated_metric,
        cast(null as {{ dbt.type_timestamp() }}) as first_match_load,
        cast(null as {{ dbt.type_timestamp() }}) as last_match_load,
        0 as match_rows,
        {#- a stored key that is not its id's would hide the id's copies from later batches #}
        case when transaction_key = {{ billing.transaction_key('transaction_id') }} then 0 else 1 end as wrong_keys
    from ({{ billing.tested_rows(ref('int_events_deduplicated')) }}) as tested
    where format_rejection_reason is null

    union all

    select
        transaction_id,
        0 as winners,
        cast(null as {{ dbt.type_timestamp() }}) as winner_load,
        case when matches > 1 then billable_metric end as repeated_metric,
        first_match_load,
        last_match_load,
        matches as match_rows,
        0 as wrong_keys
    from batch_match_groups

),

batch_ids as (

    select
        transaction_id,
        sum(winners) as batch_winners,
        max(winner_load) as winner_load,
        max(repeated_metric) as repeated_metric,
        min(first_match_load) as first_match_load,
        max(last_match_load) as last_match_load,
        sum(match_rows) as match_rows,
        max(wrong_keys) as wrong_key
    from batch_rows
    group by transaction_id

),

earlier_key_rows as (

    {#-
      the rows whose key is one of the batch's ids' (D85). Only the key is compared in the scan: with
      the other conditions there, DuckDB's estimate of the rows left is so low that it builds its hash
      table from the history instead of the batch (10 s at 100 M events, against 1 s). A first build's
      batch is everything and has no earlier rows: its keys are not looked up.
    -#}
    select
        transaction_id,
        loaded_at,
        format_rejection_reason,
        is_duplicate
    from {{ ref('int_events_deduplicated') }}
    where transaction_key in (
        select {{ billing.transaction_key('transaction_id') }} from batch_ids
        where {{ billing.tested_events_loaded_after() }} > {{ billing._min_timestamp() }}
    )

),

earlier_winners as (

    {#- the winners loaded before the batch of the batch's ids: the key's rows, ids compared -#}
    select
        earlier.transaction_id,
        count(
            case
                when
                    earlier.loaded_at <= {{ billing.tested_events_loaded_after() }}
                    and earlier.format_rejection_reason is null
                    and not earlier.is_duplicate
                    then 1
            end
        ) as winners
    from earlier_key_rows as earlier
    inner join batch_ids
        on earlier.transaction_id = batch_ids.transaction_id
    group by earlier.transaction_id

),

checked as (

    select
        batch_ids.*,
        batch_ids.batch_winners + coalesce(earlier_winners.winners, 0) as all_winners
    from batch_ids
    left join earlier_winners
        on batch_ids.transaction_id = earlier_winners.transaction_id

),

inconsistent_ids as (

    select
        transaction_id,
        case
            when all_winners <> 1
                then 'transaction_id has ' || cast(all_winners as {{ dbt.type_string() }}) || ' winning rows'
            when repeated_metric is not null
                then 'matches metric ' || repeated_metric || ' more than once'
            when wrong_key = 1
                then 'transaction_key is not the key of its transaction_id'
            else 'matches a metric but its row is not the winning copy'
        end as problem
    from checked
    where
        all_winners <> 1
        or repeated_metric is not null
        or wrong_key = 1
        or (first_match_load is not null and batch_winners <> 1)
        or first_match_load <> winner_load
        or last_match_load <> winner_load

),

match_totals as (

    select
        (
            select coalesce(sum(matched_metrics), 0)
            from ({{ billing.tested_rows(ref('fct_event_outcomes')) }}) as tested
        ) as outcome_matches,
        (select coalesce(sum(match_rows), 0) from batch_ids) as metric_matches

),

miscounted_matches as (

    select
        cast(null as {{ dbt.type_string() }}) as transaction_id,
        'fct_event_outcomes counts ' || cast(outcome_matches as {{ dbt.type_string() }})
        || ' metric matches in the batch where int_metric_events has '
        || cast(metric_matches as {{ dbt.type_string() }}) as problem
    from match_totals
    where outcome_matches <> metric_matches

),

unknown_reasons as (

    select
        transaction_id,
        'unknown format_rejection_reason ' || format_rejection_reason as problem
    from ({{ billing.tested_rows(ref('int_events_deduplicated')) }}) as tested
    where
        format_rejection_reason not in (
            'missing_transaction_id', 'missing_customer_id', 'missing_event_type',
            'invalid_timestamp', 'future_timestamp', 'invalid_properties'
        )

)

select * from inconsistent_ids
union all
select * from miscounted_matches
union all
select * from unknown_reasons
