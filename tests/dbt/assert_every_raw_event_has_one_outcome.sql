{#-
  Nothing is lost: as many outcomes as raw rows in total, and per load for the loads of the last
  build's batch (rows loaded after its lower bound, and rows without a loaded_at: everything after
  a first or full build), and every outcome of those loads well-formed. The total is two counts; the
  per-load part reads only the batch's loads, so the test costs the new data, not the history
  (issue #19), like assert_event_batch_is_consistent. Per load, counted by one grouping of both
  sides (rows without a loaded_at form one group), not a join: a streaming loader writes a loaded_at
  per row, and a join on a nullable key with an `or both null` clause runs as a nested loop
  (DECISIONLOG D42). Each part scans the outcomes for its own columns: a CTE read twice would be
  kept whole for the second read, the whole history after a first build (DECISIONLOG D82).
-#}
with raw_loads as (

    select cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at
    from {{ source('raw', 'usage_events') }}

),

raw_rows as (

    select
        loaded_at,
        1 as raw_count,
        0 as outcome_count
    from ({{ billing.tested_rows('raw_loads') }}) as tested

),

outcome_rows as (

    select
        loaded_at,
        0 as raw_count,
        1 as outcome_count
    from ({{ billing.tested_rows(ref('fct_event_outcomes')) }}) as tested

),

totals as (

    select
        (select count(*) from {{ source('raw', 'usage_events') }}) as raw_count,
        (select count(*) from {{ ref('fct_event_outcomes') }}) as outcome_count

),

total_mismatch as (

    select
        cast(null as {{ dbt.type_timestamp() }}) as loaded_at,
        'raw rows ' || cast(raw_count as {{ dbt.type_string() }})
        || ' but outcomes ' || cast(outcome_count as {{ dbt.type_string() }}) || ' in total' as problem
    from totals
    where raw_count <> outcome_count

),

counts_per_load as (

    select
        loaded_at,
        sum(raw_count) as raw_count,
        sum(outcome_count) as outcome_count
    from (
        select * from raw_rows
        union all
        select * from outcome_rows
    ) as both_sides
    group by loaded_at

),

count_mismatches as (

    select
        loaded_at,
        'raw rows ' || cast(raw_count as {{ dbt.type_string() }})
        || ' but outcomes ' || cast(outcome_count as {{ dbt.type_string() }}) as problem
    from counts_per_load
    where raw_count <> outcome_count

),

malformed_outcomes as (

    select
        loaded_at,
        'outcome ' || coalesce(outcome, 'NULL') || ' with reason ' || coalesce(reason, 'NULL') as problem
    from ({{ billing.tested_rows(ref('fct_event_outcomes')) }}) as tested
    where
        outcome is null
        or (outcome = 'rejected' and reason is null)
        or (outcome <> 'rejected' and reason is not null)

)

select * from total_mismatch
union all
select * from count_mismatches
union all
select * from malformed_outcomes
