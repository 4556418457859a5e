{#-
  Nothing is lost: as many outcomes as raw rows, per load, and every outcome well-formed.
  Per load, counted by one grouping of both sides (rows without a loaded_at form one group), not a
  join: a streaming loader writes a loaded_at per row, and a join on a nullable key with an
  `or both null` clause runs as a nested loop (DECISIONLOG D42).
-#}
with raw_rows as (

    select
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
        1 as raw_count,
        0 as outcome_count
    from {{ source('raw', 'usage_events') }}

),

outcome_rows as (

    select
        loaded_at,
        0 as raw_count,
        1 as outcome_count
    from {{ ref('fct_event_outcomes') }}

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
    from {{ ref('fct_event_outcomes') }}
    where
        outcome is null
        or (outcome = 'rejected' and reason is null)
        or (outcome <> 'rejected' and reason is not null)

)

select * from count_mismatches
union all
select * from malformed_outcomes
