{#-
  The per-load summary counts add up to the rows in raw.usage_events, load by load (rows without a
  loaded_at form one group). One grouping of both sides, no join: linear in the rows however many
  loads there are (a streaming loader writes one per row; DECISIONLOG D42).
-#}
with summarised as (

    select
        loaded_at,
        event_count as summarised,
        0 as landed
    from {{ ref('fct_event_load_summary') }}

),

landed as (

    select
        cast(loaded_at as {{ dbt.type_timestamp() }}) as loaded_at,
        0 as summarised,
        1 as landed
    from {{ source('raw', 'usage_events') }}

),

counts_per_load as (

    select
        loaded_at,
        sum(summarised) as summarised,
        sum(landed) as landed
    from (
        select * from summarised
        union all
        select * from landed
    ) as both_sides
    group by loaded_at

),

final as (

    select
        loaded_at,
        summarised,
        landed
    from counts_per_load
    where summarised <> landed

)

select * from final
