{#- A bad catalog fails the build; `billing build` prints these rows (seed file, row, problem). -#}
select
    seed,
    row_key,
    problem
from {{ ref('int_catalog_problems') }}
