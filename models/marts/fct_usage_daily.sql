{#-
  Usage by customer, day and billable metric (the BI view). quantity aggregates the day's metered
  events the metric's way: COUNT/SUM add up, MAX is the day's maximum, UNIQUE the day's distinct
  values, LATEST the day's last value.
-#}
with metered_events as (

    select
        *,
        cast(event_at as date) as usage_date
    from {{ ref('int_metered_events') }}

),

latest_values as (

    select customer_id, contract_id, usage_date, billable_metric, group_values, metric_value as latest_value
    from (
        select
            *,
            row_number() over (
                partition by customer_id, contract_id, usage_date, billable_metric, group_values
                order by event_at desc, transaction_id desc
            ) as recency_rank
        from metered_events
        where aggregation = 'latest'
    ) ranked
    where recency_rank = 1

),

aggregated as (

    select
        customer_id,
        contract_id,
        usage_date,
        billable_metric,
        group_values,
        max(aggregation) as aggregation,
        sum(metric_value) as sum_value,
        max(metric_value) as max_value,
        count(distinct unique_value) as unique_count,
        count(*) as event_count
    from metered_events
    group by customer_id, contract_id, usage_date, billable_metric, group_values

),

final as (

    select
        aggregated.customer_id,
        aggregated.contract_id,
        aggregated.usage_date,
        aggregated.billable_metric,
        aggregated.group_values,
        cast(case aggregated.aggregation
            when 'count' then aggregated.sum_value
            when 'sum' then aggregated.sum_value
            when 'max' then aggregated.max_value
            when 'unique' then aggregated.unique_count
            when 'latest' then latest_values.latest_value
        end as {{ billing.type_decimal() }}) as quantity,
        aggregated.event_count
    from aggregated
    left join latest_values
        on aggregated.customer_id = latest_values.customer_id
        and aggregated.contract_id = latest_values.contract_id
        and aggregated.usage_date = latest_values.usage_date
        and aggregated.billable_metric = latest_values.billable_metric
        and (aggregated.group_values = latest_values.group_values
            or (aggregated.group_values is null and latest_values.group_values is null))

)

select * from final
