{#-
    Which customer-days the emotional state describes (the rows of
    int_customer_days), one row each, up to the build's latest day and from
    the day the customer was created: every eventful day of a customer
    (int_customer_daily_activity), the day before each survey invitation,
    survey answer, review and social mention (so a label can be paired with
    what was known just before it), the day before every snapshot date
    (is_snapshot_date(): every `snapshot_every_days` days on a grid anchored
    at 1970-01-01) for customers with activity in the year before it or a
    subscription on it, and the latest day for every customer.

    A view: int_customer_days reads the days it builds (an incremental run,
    only the last few), and the filter reaches every branch.
-#}

with

activity as (

    select * from {{ ref('int_customer_daily_activity') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

survey_responses as (

    select * from {{ ref('stg_feedback__survey_responses') }}

),

reviews as (

    select * from {{ ref('stg_feedback__reviews') }}

),

survey_invitations as (

    select * from {{ ref('stg_feedback__survey_invitations') }}

),

social_mentions as (

    select * from {{ ref('stg_feedback__social_mentions') }}

),

subscriptions as (

    select * from {{ ref('stg_commerce__subscriptions') }}

),

as_of as (

    {{ as_of_dates() }}

),

-- The last day with data: the build's one as-of date (int_as_of_date; the var as_of_date when set).
bounds as (

    select as_of.latest_data_date as latest_date
    from as_of

),

label_days as (

    select
        customer_id,
        cast({{ dbt.dateadd('day', -1, 'cast(responded_at as date)') }} as date) as state_date
    from survey_responses
    where customer_id is not null
    union
    select
        customer_id,
        cast({{ dbt.dateadd('day', -1, 'cast(created_at as date)') }} as date) as state_date
    from reviews
    where customer_id is not null
    union
    select
        customer_id,
        cast({{ dbt.dateadd('day', -1, 'cast(sent_at as date)') }} as date) as state_date
    from survey_invitations
    where customer_id is not null
    union
    select
        customer_id,
        cast({{ dbt.dateadd('day', -1, 'cast(posted_at as date)') }} as date) as state_date
    from social_mentions
    where customer_id is not null

),

activity_span as (

    select
        customer_id,
        min(activity_date) as first_activity_date,
        max(activity_date) as last_activity_date
    from activity
    group by customer_id

),

-- The days before snapshot dates, from the generated grid.
snapshot_days as (

    select
        cast({{ dbt.dateadd('day', 'grid.generated_number * ' ~ var('snapshot_every_days', 14) ~ ' - 1',
            "cast('1970-01-01' as date)") }} as date) as state_date
    from ({{ dbt.generate_series(4096) }}) as grid

),

snapshot_spine as (

    select
        activity_span.customer_id,
        snapshot_days.state_date
    from snapshot_days
    cross join bounds
    inner join activity_span
        on
            snapshot_days.state_date >= activity_span.first_activity_date
            and snapshot_days.state_date <= {{ dbt.dateadd('day', 365, 'activity_span.last_activity_date') }}
    where snapshot_days.state_date <= bounds.latest_date
    union
    -- subscribers are snapshotted while subscribed, with or without activity
    select
        subscriptions.customer_id,
        snapshot_days.state_date
    from snapshot_days
    cross join bounds
    inner join subscriptions
        on
            cast(subscriptions.started_at as date) <= snapshot_days.state_date
            and (subscriptions.ended_at is null or cast(subscriptions.ended_at as date) > snapshot_days.state_date)
    where
        snapshot_days.state_date <= bounds.latest_date
        and subscriptions.customer_id is not null

),

spine as (

    select
        activity.customer_id,
        activity.activity_date as state_date
    from activity
    cross join bounds
    where
        activity.is_eventful
        and activity.activity_date <= bounds.latest_date
    union
    select
        label_days.customer_id,
        label_days.state_date
    from label_days
    cross join bounds
    where label_days.state_date <= bounds.latest_date
    union
    select
        snapshot_spine.customer_id,
        snapshot_spine.state_date
    from snapshot_spine
    union
    select
        customers.customer_id,
        bounds.latest_date as state_date
    from customers
    cross join bounds
    where cast(customers.created_at as date) <= bounds.latest_date

),

final as (

    select
        {{ dbt.concat(['spine.customer_id', "':'", 'cast(spine.state_date as ' ~ dbt.type_string() ~ ')']) }}
            as customer_day_id,
        spine.customer_id,
        spine.state_date
    from spine
    inner join customers
        on spine.customer_id = customers.customer_id
    where spine.state_date >= cast(customers.created_at as date)

)

select * from final
