{#-
  Catalog features the rating models do not compute yet: refused with a clear message rather than
  billed wrongly. Each line goes away when its rule lands.
-#}
select
    'products.csv' as seed,
    products.product_id as row_key,
    'billing a SQL metric with group-key columns (' || products.billable_metric || ') is not supported yet' as problem
from {{ ref('stg_products') }} as products
inner join {{ ref('int_billable_metrics') }} as metrics
    on products.billable_metric = metrics.billable_metric
where metrics.aggregation = 'sql' and metrics.has_group_keys
