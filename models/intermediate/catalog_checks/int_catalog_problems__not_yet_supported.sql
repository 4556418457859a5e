{#-
  Catalog features the rating models do not compute yet: refused with a clear message rather than
  billed wrongly. Each line goes away when its rule lands.
-#}
select
    'contract_overrides.csv' as seed,
    overrides.override_id as row_key,
    'OVERWRITE and MULTIPLIER overrides of SUBSCRIPTION products are not supported yet' as problem
from {{ ref('stg_contract_overrides') }} as overrides
inner join {{ ref('stg_products') }} as products
    on overrides.product_id = products.product_id
where products.product_type = 'SUBSCRIPTION' and overrides.override_type is not null
union all
select
    'products.csv' as seed,
    products.product_id as row_key,
    'billing a SQL metric with group-key columns (' || products.billable_metric || ') is not supported yet' as problem
from {{ ref('stg_products') }} as products
inner join {{ ref('int_billable_metrics') }} as metrics
    on products.billable_metric = metrics.billable_metric
where metrics.aggregation = 'sql' and metrics.has_group_keys
