-- The scoring cache holds one row per text and model version.
select
    text_hash,
    model_version,
    count(*) as n_rows
from {{ ref('int_text_signals__scored') }}
group by
    text_hash,
    model_version
having count(*) > 1
