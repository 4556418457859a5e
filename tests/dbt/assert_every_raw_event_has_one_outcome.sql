{#- Nothing is lost: as many outcomes as raw rows, per load, and every outcome well-formed. -#}
with raw_rows as (

    select loaded_at, count(*) as raw_count
    from {{ source('raw', 'usage_events') }}
    group by loaded_at

),

outcome_rows as (

    select loaded_at, count(*) as outcome_count
    from {{ ref('fct_event_outcomes') }}
    group by loaded_at

),

count_mismatches as (

    select
        coalesce(raw_rows.loaded_at, outcome_rows.loaded_at) as loaded_at,
        'raw rows ' || cast(coalesce(raw_count, 0) as {{ dbt.type_string() }})
            || ' but outcomes ' || cast(coalesce(outcome_count, 0) as {{ dbt.type_string() }}) as problem
    from raw_rows
    full outer join outcome_rows
        on raw_rows.loaded_at = outcome_rows.loaded_at
        or (raw_rows.loaded_at is null and outcome_rows.loaded_at is null)
    where coalesce(raw_count, 0) <> coalesce(outcome_count, 0)

),

malformed_outcomes as (

    select loaded_at, 'outcome ' || coalesce(outcome, 'NULL') || ' with reason ' || coalesce(reason, 'NULL') as problem
    from {{ ref('fct_event_outcomes') }}
    where outcome is null
        or (outcome = 'rejected' and reason is null)
        or (outcome <> 'rejected' and reason is not null)

)

select * from count_mismatches
union all
select * from malformed_outcomes
