{#-
  Every raw row once, with its dedup verdict. Among well-formed rows sharing a transaction_id the
  earliest loaded wins (ties: file, line, then content); the others are duplicates. Malformed rows
  keep their rejection reason and never claim an id.

  Cost: ids are first counted in a hash aggregate; only rows whose id repeats (about 1% in practice)
  go through the window sort, instead of sorting every event.
-#}
with events as (

    select * from {{ ref('stg_usage_events') }}

),

well_formed as (

    select * from events
    where format_rejection_reason is null

),

repeated_ids as (

    select transaction_id
    from well_formed
    group by transaction_id
    having count(*) > 1

),

single_events as (

    select
        well_formed.*,
        1 as load_rank
    from well_formed
    left join repeated_ids
        on well_formed.transaction_id = repeated_ids.transaction_id
    where repeated_ids.transaction_id is null

),

repeated_events as (

    select
        well_formed.*,
        row_number() over (
            partition by well_formed.transaction_id
            order by
                well_formed.loaded_at nulls last,
                well_formed.source_file nulls last,
                well_formed.source_line nulls last,
                well_formed.event_at,
                well_formed.customer_id,
                well_formed.event_type,
                well_formed.properties
        ) as load_rank
    from well_formed
    inner join repeated_ids
        on well_formed.transaction_id = repeated_ids.transaction_id

),

malformed_events as (

    select
        *,
        cast(null as {{ dbt.type_int() }}) as load_rank
    from events
    where format_rejection_reason is not null

),

unioned as (

    select * from single_events
    union all
    select * from repeated_events
    union all
    select * from malformed_events

),

final as (

    select
        *,
        coalesce(load_rank > 1, false) as is_duplicate
    from unioned

)

select * from final
