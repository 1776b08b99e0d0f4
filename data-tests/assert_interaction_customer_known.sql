-- Interactions of the types whose source always names the customer have one.
-- Only anonymous web sessions, unlinked reviews and unlinked social mentions
-- may lack a customer. A miss here means a parent record (order, ticket) is
-- absent, which is why the test warns rather than fails.
select
    interaction_id,
    interaction_type
from {{ ref('fct_interactions') }}
where
    customer_id is null
    and interaction_type not in ('web_session', 'review', 'social_mention')
