{#-
    The day spine MetricFlow joins metrics to (grain: one row per UTC day).
    A fixed span from 1990 to 2059 covers every world the project reads,
    including old public data sets, without reading a mart.
-#}

select cast(spine.day_start as date) as date_day
from range(timestamp '1990-01-01', timestamp '2060-01-01', interval 1 day) as spine (day_start)
