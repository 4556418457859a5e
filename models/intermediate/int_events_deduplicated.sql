{#-
  Every raw row once, with its dedup verdict. Among well-formed rows sharing a transaction_id the
  earliest loaded wins (ties: file, line, then content); the others are duplicates. Malformed rows
  keep their rejection reason and never claim an id.

  Incremental (DECISIONLOG D32): a build adds the rows loaded since the last one. Their verdicts
  only depend on rows loaded earlier, which keep theirs: a new row whose id an earlier row holds
  is a duplicate. load_rank counts the earlier copies, so it is what a full rebuild gives.

  Cost: ids are first counted in a hash aggregate; only rows whose id repeats (about 1% in practice)
  go through the window sort, instead of sorting every event. Each row keeps its transaction_key, a
  64-bit hash of its id (DECISIONLOG D85): a later build finds its ids' earlier copies by that one
  integer column, then compares the ids of the few rows found, instead of hashing every stored id.
-#}
{{ config(
    materialized=billing.event_model_materialization(),
    incremental_strategy='event_batch',
    on_schema_change='sync_all_columns',
    post_hook="{{ billing.record_event_batch() }}",
) }}
with events as (

    select
        batch_rows.*,
        {{ billing.transaction_key('batch_rows.transaction_id') }} as transaction_key
    from ({{ billing.event_batch_rows(ref('stg_usage_events')) }}) as batch_rows

),

well_formed as {{ billing.inline_cte() }} (

    select * from events
    where format_rejection_reason is null

),

{%- if is_incremental() %}

earlier_key_matches as (

    {#- rows kept from earlier builds whose key is one of the batch's: a scan of the key column -#}
    select earlier.transaction_id
    from {{ this }} as earlier
    where earlier.format_rejection_reason is null
        and earlier.loaded_at <= {{ billing.event_batch_plan('batch_loaded_after') }}
        and earlier.transaction_key in (select transaction_key from well_formed)

),
{%- endif %}

earlier_copies as (

    {#- copies of the batch's ids among the rows kept from earlier builds: the key's rows, ids compared -#}
    {%- if is_incremental() %}
    select transaction_id, count(*) as copies
    from earlier_key_matches
    where transaction_id in (select transaction_id from well_formed)
    group by transaction_id
    {%- else %}
    select transaction_id, cast(0 as {{ dbt.type_bigint() }}) as copies
    from well_formed
    where 1 = 0
    {%- endif %}

),

repeated_ids as (

    select transaction_id
    from well_formed
    group by transaction_id
    having count(*) > 1

    union

    select transaction_id from earlier_copies

),

single_events as (

    select
        well_formed.*,
        cast(1 as {{ dbt.type_bigint() }}) as load_rank
    from well_formed
    left join repeated_ids
        on well_formed.transaction_id = repeated_ids.transaction_id
    where repeated_ids.transaction_id is null

),

repeated_events as (

    select
        well_formed.*,
        coalesce(earlier_copies.copies, 0) + row_number() over (
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
    left join earlier_copies
        on well_formed.transaction_id = earlier_copies.transaction_id

),

malformed_events as (

    select
        *,
        cast(null as {{ dbt.type_bigint() }}) as load_rank
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

-- AM04: `*` is every column of the raw events as staged, plus is_duplicate
select * from final  -- noqa: AM04
