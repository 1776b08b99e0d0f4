"""The raw-data contract: every table the product reads, its columns, types and rules.

This module is the single source of truth for the raw layer. From it:

* the demo generator writes conforming Parquet files,
* the gate builds its Great Expectations suites and type coercions,
* the loader creates the raw tables,
* ``empathy contract sources`` writes the dbt ``_<source>__sources.yml`` files
  (a test fails when the committed files drift from this module).

Conventions: ids are strings; timestamps are UTC (stored without a zone);
money is a double in the row's currency. Every table but ``customers`` is
optional. Columns a company adds beyond the contract are kept (carried through
to staging as candidate features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Logical type -> DuckDB type used in raw tables and coercion.
DUCKDB_TYPES = {
    "string": "varchar",
    "timestamp": "timestamp",
    "date": "date",
    "integer": "bigint",
    "double": "double",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of DUCKDB_TYPES
    description: str
    required: bool = False  # not null
    allowed: tuple[str, ...] | None = None  # allowed values (strings)
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "table.column" (referential sanity)
    max_length: int | None = None  # for text
    pii: bool = False
    not_future: bool = False  # timestamps may not lie after the run time

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    def rules(self, code: str = "") -> list[str]:
        """The column's rules in words; `code` wraps values (e.g. a backtick for Markdown)."""
        out = []
        if self.required:
            out.append("not null")
        if self.allowed:
            out.append("one of " + ", ".join(f"{code}{v}{code}" for v in self.allowed))
        if self.min is not None:
            out.append(f">= {self.min:g}")
        if self.max is not None:
            out.append(f"<= {self.max:g}")
        if self.references:
            out.append(f"references {code}{self.references}{code}")
        if self.max_length:
            out.append(f"length <= {self.max_length:,}")
        if self.not_future:
            out.append("not in the future")
        if self.pii:
            out.append("personal data")
        return out


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # dbt source (system of record) the table belongs to
    description: str
    key: str
    day_column: str  # the timestamp that partitions the landing files by day
    columns: tuple[Column, ...]
    required_table: bool = False
    updated_column: str | None = None  # for deduplication: the latest version wins
    freshness_warn_hours: int = 36
    freshness_error_hours: int = 96
    extra: dict = field(default_factory=dict)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name}.{name} is not in the raw-data contract")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


# Long free text is capped so that one pathological field cannot blow up a run;
# longer values are quarantined (the row is kept there in full).
MAX_TEXT = 100_000

C = Column  # brevity below

CUSTOMERS = Table(
    name="customers",
    source="crm",
    description="One row per customer (person or account) as held in the CRM. Extra columns are carried through as candidate features.",
    key="customer_id",
    day_column="created_at",
    updated_column="updated_at",
    required_table=True,
    freshness_warn_hours=24 * 7,
    freshness_error_hours=24 * 30,
    columns=(
        C("customer_id", "string", "Customer identifier in the source system.", required=True),
        C("created_at", "timestamp", "When the customer record was created (UTC).", required=True, not_future=True),
        C("updated_at", "timestamp", "When the record last changed (UTC); the latest version wins.", not_future=True),
        C(
            "email",
            "string",
            "Contact e-mail address. Personal data: hashed in staging, never published.",
            pii=True,
            max_length=320,
        ),
        C("birth_year", "integer", "Year of birth where known.", min=1900, max=2030),
        C(
            "age_band",
            "string",
            "Age band where only a band is known.",
            allowed=("18-24", "25-34", "35-44", "45-54", "55-64", "65+"),
        ),
        C(
            "gender",
            "string",
            "Gender where the customer stated it.",
            allowed=("female", "male", "nonbinary", "unknown"),
        ),
        C("country", "string", "ISO 3166-1 alpha-2 country code.", max_length=2),
        C("language", "string", "Preferred language, ISO 639-1 code (en, es, pt, ...).", max_length=8),
        C("locale", "string", "Locale such as en-US or pt-BR.", max_length=16),
        C("region", "string", "Sales or geographic region."),
        C("segment", "string", "Customer type.", allowed=("consumer", "business")),
        C("company_name", "string", "Company name for business customers (firmographic, optional)."),
        C("industry", "string", "Industry of a business customer (firmographic, optional)."),
        C(
            "company_size",
            "string",
            "Head-count band of a business customer (firmographic, optional).",
            allowed=("1-9", "10-49", "50-249", "250-999", "1000+"),
        ),
        C("acquisition_channel", "string", "Channel that acquired the customer."),
    ),
)

ORDERS = Table(
    name="orders",
    source="commerce",
    description="One row per order.",
    key="order_id",
    day_column="ordered_at",
    updated_column="updated_at",
    columns=(
        C("order_id", "string", "Order identifier.", required=True),
        C("customer_id", "string", "Customer who placed the order.", required=True, references="customers.customer_id"),
        C("ordered_at", "timestamp", "When the order was placed (UTC).", required=True, not_future=True),
        C("updated_at", "timestamp", "When the order last changed (UTC).", not_future=True),
        C(
            "status",
            "string",
            "Order status.",
            required=True,
            allowed=("placed", "shipped", "delivered", "cancelled", "returned"),
        ),
        C("channel", "string", "Where the order was placed.", allowed=("web", "app", "store", "phone")),
        C("currency", "string", "ISO 4217 currency code.", max_length=3),
        C("order_total", "double", "Amount charged for the order after discounts.", required=True, min=0),
        C("discount_amount", "double", "Discount granted on the order.", min=0),
    ),
)

ORDER_ITEMS = Table(
    name="order_items",
    source="commerce",
    description="One row per line of an order; a line is sent again when it is found defective or returned.",
    key="order_item_id",
    day_column="ordered_at",
    updated_column="updated_at",
    columns=(
        C("order_item_id", "string", "Order line identifier.", required=True),
        C("order_id", "string", "Order the line belongs to.", required=True, references="orders.order_id"),
        C(
            "ordered_at",
            "timestamp",
            "When the order was placed (UTC).",
            required=True,
            not_future=True,
        ),
        C(
            "updated_at",
            "timestamp",
            "When the line last changed, e.g. reported defective or returned (UTC).",
            not_future=True,
        ),
        C("product_id", "string", "Product identifier.", required=True),
        C("product_category", "string", "Product category."),
        C("quantity", "integer", "Units ordered.", required=True, min=1, max=10_000),
        C("unit_price", "double", "Price per unit.", required=True, min=0),
        C("is_defective", "boolean", "The item arrived defective (reported by the customer or warehouse)."),
        C("returned_at", "timestamp", "When the item was returned, if it was (UTC).", not_future=True),
        C(
            "return_reason",
            "string",
            "Reason given for the return.",
            allowed=("defective", "wrong_item", "not_as_described", "changed_mind", "late", "other"),
        ),
    ),
)

PAYMENTS = Table(
    name="payments",
    source="commerce",
    description="One row per payment attempt, refund or invoice charge (billing).",
    key="payment_id",
    day_column="paid_at",
    columns=(
        C("payment_id", "string", "Payment identifier.", required=True),
        C("customer_id", "string", "Paying customer.", required=True, references="customers.customer_id"),
        C("order_id", "string", "Order paid for, when the payment is for an order."),
        C("subscription_id", "string", "Subscription billed, when the payment is a subscription charge."),
        C("paid_at", "timestamp", "When the payment was attempted (UTC).", required=True, not_future=True),
        C("amount", "double", "Amount; refunds are negative.", required=True),
        C("currency", "string", "ISO 4217 currency code.", max_length=3),
        C(
            "method",
            "string",
            "Payment method.",
            allowed=("card", "paypal", "bank_transfer", "direct_debit", "cash", "other"),
        ),
        C("status", "string", "Outcome of the payment.", required=True, allowed=("succeeded", "failed", "refunded")),
    ),
)

SUBSCRIPTIONS = Table(
    name="subscriptions",
    source="commerce",
    description=(
        "One row per subscription (contract) as it stands (current state), or one row per version of it (change"
        " history); price changes and cancellations update it. See Export shapes."
    ),
    key="subscription_id",
    day_column="started_at",
    updated_column="updated_at",
    columns=(
        C("subscription_id", "string", "Subscription identifier.", required=True),
        C("customer_id", "string", "Subscriber.", required=True, references="customers.customer_id"),
        C("plan", "string", "Plan name.", required=True),
        C("started_at", "timestamp", "Start of the subscription (UTC).", required=True, not_future=True),
        C("ended_at", "timestamp", "End of the subscription (UTC); empty while active.", not_future=True),
        C("updated_at", "timestamp", "When the record last changed (UTC).", not_future=True),
        C("monthly_amount", "double", "Current monthly price.", required=True, min=0),
        C("previous_monthly_amount", "double", "Monthly price before the last price change, if any.", min=0),
        C("price_changed_at", "timestamp", "When the price last changed (UTC).", not_future=True),
        C("currency", "string", "ISO 4217 currency code.", max_length=3),
        C(
            "status",
            "string",
            "Subscription status.",
            required=True,
            allowed=("active", "paused", "cancelled", "expired"),
        ),
        C("cancel_reason", "string", "Reason given at cancellation."),
    ),
)

SHIPMENTS = Table(
    name="shipments",
    source="commerce",
    description="One row per shipment, with the promised and the actual delivery time.",
    key="shipment_id",
    day_column="shipped_at",
    updated_column="updated_at",
    columns=(
        C("shipment_id", "string", "Shipment identifier.", required=True),
        C("order_id", "string", "Order shipped.", required=True, references="orders.order_id"),
        C("carrier", "string", "Carrier name."),
        C("shipped_at", "timestamp", "When the parcel left the warehouse (UTC).", required=True, not_future=True),
        C("promised_delivery_at", "timestamp", "Delivery time promised to the customer (UTC)."),
        C("delivered_at", "timestamp", "Actual delivery time (UTC); empty until delivered.", not_future=True),
        C("updated_at", "timestamp", "When the record last changed (UTC).", not_future=True),
    ),
)

SUPPORT_TICKETS = Table(
    name="support_tickets",
    source="support",
    description="One row per support ticket (case).",
    key="ticket_id",
    day_column="created_at",
    updated_column="updated_at",
    columns=(
        C("ticket_id", "string", "Ticket identifier.", required=True),
        C(
            "customer_id",
            "string",
            "Customer who raised the ticket.",
            required=True,
            references="customers.customer_id",
        ),
        C("created_at", "timestamp", "When the ticket was opened (UTC).", required=True, not_future=True),
        C("updated_at", "timestamp", "When the ticket last changed (UTC).", not_future=True),
        C("channel", "string", "Channel the ticket came through.", allowed=("email", "web", "chat", "phone", "social")),
        C("category", "string", "Category chosen by the customer or agent."),
        C("priority", "string", "Priority.", allowed=("low", "normal", "high", "urgent")),
        C("status", "string", "Current status.", required=True, allowed=("open", "pending", "solved", "closed")),
        C("subject", "string", "Subject line.", max_length=1_000),
        C("assigned_agent_id", "string", "Agent who owns the ticket.", references="agents.agent_id"),
        C("first_response_at", "timestamp", "First agent response (UTC).", not_future=True),
        C("resolved_at", "timestamp", "When the ticket was solved (UTC).", not_future=True),
    ),
)

TICKET_MESSAGES = Table(
    name="ticket_messages",
    source="support",
    description="One row per message on a ticket, from the customer, an agent or the system.",
    key="message_id",
    day_column="sent_at",
    columns=(
        C("message_id", "string", "Message identifier.", required=True),
        C(
            "ticket_id",
            "string",
            "Ticket the message belongs to.",
            required=True,
            references="support_tickets.ticket_id",
        ),
        C("author_type", "string", "Who wrote it.", required=True, allowed=("customer", "agent", "system")),
        C("author_id", "string", "Customer or agent id of the author."),
        C("sent_at", "timestamp", "When the message was sent (UTC).", required=True, not_future=True),
        C("body", "string", "Message text.", max_length=MAX_TEXT),
    ),
)

CHATS = Table(
    name="chats",
    source="support",
    description="One row per chat conversation, with the customer's side of the text.",
    key="chat_id",
    day_column="started_at",
    columns=(
        C("chat_id", "string", "Chat identifier.", required=True),
        C("customer_id", "string", "Customer in the chat.", required=True, references="customers.customer_id"),
        C("agent_id", "string", "Agent who answered (empty for a bot).", references="agents.agent_id"),
        C("started_at", "timestamp", "Start of the chat (UTC).", required=True, not_future=True),
        C("ended_at", "timestamp", "End of the chat (UTC).", not_future=True),
        C("wait_seconds", "integer", "Seconds the customer waited for an answer.", min=0, max=86_400),
        C("customer_text", "string", "Everything the customer wrote, in order.", max_length=MAX_TEXT),
        C("agent_text", "string", "Everything the agent or bot wrote, in order.", max_length=MAX_TEXT),
    ),
)

CALLS = Table(
    name="calls",
    source="support",
    description="One row per phone call, with optional transcript and voice-tone measures.",
    key="call_id",
    day_column="started_at",
    columns=(
        C("call_id", "string", "Call identifier.", required=True),
        C("customer_id", "string", "Caller or callee.", required=True, references="customers.customer_id"),
        C("agent_id", "string", "Agent on the call.", references="agents.agent_id"),
        C("started_at", "timestamp", "When the call started (UTC).", required=True, not_future=True),
        C("direction", "string", "Inbound or outbound.", required=True, allowed=("inbound", "outbound")),
        C("queue", "string", "Queue or reason chosen in the IVR."),
        C("wait_seconds", "integer", "Seconds in the queue.", min=0, max=86_400),
        C("duration_seconds", "integer", "Talk time in seconds.", min=0, max=86_400),
        C("transcript", "string", "Customer-side transcript, where recorded.", max_length=MAX_TEXT),
        C("voice_pitch_var", "double", "Optional voice-tone measure: pitch variability, 0..1.", min=0, max=1),
        C("voice_energy", "double", "Optional voice-tone measure: loudness/energy, 0..1.", min=0, max=1),
        C("speech_rate", "double", "Optional voice-tone measure: words per second.", min=0, max=10),
        C(
            "outcome",
            "string",
            "How the call ended.",
            allowed=("resolved", "escalated", "callback", "abandoned", "transferred"),
        ),
    ),
)

AGENTS = Table(
    name="agents",
    source="support",
    description="One row per support agent, with experience, skills and quality scores.",
    key="agent_id",
    day_column="hired_at",
    updated_column="updated_at",
    freshness_warn_hours=24 * 90,
    freshness_error_hours=24 * 365,
    columns=(
        C("agent_id", "string", "Agent identifier.", required=True),
        C("agent_name", "string", "Agent display name. Personal data.", pii=True),
        C("hired_at", "timestamp", "Hire date (UTC).", required=True, not_future=True),
        C("updated_at", "timestamp", "When the record last changed (UTC).", not_future=True),
        C("experience_years", "double", "Years of customer-service experience.", min=0, max=60),
        C("skills", "string", "Comma-separated skills (billing, technical, retention, complaints, ...)."),
        C("languages", "string", "Comma-separated ISO 639-1 languages the agent speaks."),
        C("team", "string", "Team or tier.", allowed=("tier1", "tier2", "senior", "retention")),
        C("qa_score", "double", "Quality-assurance score, 0-100.", min=0, max=100),
        C("empathy_score", "double", "Empathy rating from QA reviews, 0-100.", min=0, max=100),
        C("is_active", "boolean", "Agent currently works shifts."),
    ),
)

EMAIL_EVENTS = Table(
    name="email_events",
    source="marketing",
    description="One row per e-mail event from the e-mail platform (sent, delivered, open, click, unsubscribe, bounce, complaint).",
    key="event_id",
    day_column="occurred_at",
    columns=(
        C("event_id", "string", "Event identifier.", required=True),
        C("customer_id", "string", "Recipient.", required=True, references="customers.customer_id"),
        C("campaign_id", "string", "Campaign or message identifier.", required=True),
        C(
            "campaign_type",
            "string",
            "Kind of e-mail.",
            allowed=("promotional", "newsletter", "transactional", "winback", "service"),
        ),
        C(
            "event_type",
            "string",
            "What happened.",
            required=True,
            allowed=("sent", "delivered", "open", "click", "unsubscribe", "bounce", "complaint"),
        ),
        C("occurred_at", "timestamp", "When it happened (UTC).", required=True, not_future=True),
    ),
)

WEB_EVENTS = Table(
    name="web_events",
    source="digital",
    description="One row per web or app event (page view, search, cart, checkout, error).",
    key="event_id",
    day_column="occurred_at",
    columns=(
        C("event_id", "string", "Event identifier.", required=True),
        C("session_id", "string", "Session identifier.", required=True),
        C(
            "customer_id",
            "string",
            "Signed-in customer; empty for anonymous visits.",
            references="customers.customer_id",
        ),
        C("occurred_at", "timestamp", "When it happened (UTC).", required=True, not_future=True),
        C(
            "event_type",
            "string",
            "What happened.",
            required=True,
            allowed=("page_view", "search", "add_to_cart", "checkout", "error", "help_center", "login"),
        ),
        C("page", "string", "Page path or app screen.", max_length=2_000),
        C("search_terms", "string", "What was searched for, on search events.", max_length=1_000),
        C("device", "string", "Device class.", allowed=("desktop", "mobile", "tablet", "app")),
    ),
)

SURVEY_INVITATIONS = Table(
    name="survey_invitations",
    source="feedback",
    description="One row per survey invitation sent; with the responses it makes non-response visible.",
    key="invitation_id",
    day_column="sent_at",
    columns=(
        C("invitation_id", "string", "Invitation identifier.", required=True),
        C("customer_id", "string", "Invited customer.", required=True, references="customers.customer_id"),
        C("survey_type", "string", "Survey kind.", required=True, allowed=("nps", "csat")),
        C("sent_at", "timestamp", "When the invitation was sent (UTC).", required=True, not_future=True),
        C("channel", "string", "Channel of the invitation.", allowed=("email", "sms", "in_app", "web")),
        C("trigger", "string", "What triggered it.", allowed=("periodic", "post_ticket", "post_purchase", "post_call")),
        C("related_id", "string", "Ticket, order or call that triggered it, if any."),
    ),
)

SURVEY_RESPONSES = Table(
    name="survey_responses",
    source="feedback",
    description="One row per survey answer: NPS (0-10) or CSAT (1-5) score with optional free text.",
    key="response_id",
    day_column="responded_at",
    columns=(
        C("response_id", "string", "Response identifier.", required=True),
        C("invitation_id", "string", "Invitation answered.", references="survey_invitations.invitation_id"),
        C("customer_id", "string", "Respondent.", required=True, references="customers.customer_id"),
        C("survey_type", "string", "Survey kind.", required=True, allowed=("nps", "csat")),
        C("responded_at", "timestamp", "When the answer was given (UTC).", required=True, not_future=True),
        C("score", "integer", "NPS 0-10 or CSAT 1-5.", required=True, min=0, max=10),
        C("comment", "string", "Free-text comment.", max_length=MAX_TEXT),
    ),
)

REVIEWS = Table(
    name="reviews",
    source="feedback",
    description="One row per product or service review with a star rating.",
    key="review_id",
    day_column="created_at",
    columns=(
        C("review_id", "string", "Review identifier.", required=True),
        C("customer_id", "string", "Reviewer, when known.", references="customers.customer_id"),
        C("product_id", "string", "Product reviewed, if any."),
        C("created_at", "timestamp", "When the review was posted (UTC).", required=True, not_future=True),
        C("rating", "integer", "Star rating, 1-5.", required=True, min=1, max=5),
        C("title", "string", "Review title.", max_length=1_000),
        C("body", "string", "Review text.", max_length=MAX_TEXT),
        C("language", "string", "Language code as recorded by the platform, if any.", max_length=8),
    ),
)

SOCIAL_MENTIONS = Table(
    name="social_mentions",
    source="feedback",
    description="One row per public social-media post mentioning the company; mapped to a customer where possible.",
    key="mention_id",
    day_column="posted_at",
    columns=(
        C("mention_id", "string", "Mention identifier.", required=True),
        C(
            "platform",
            "string",
            "Platform.",
            required=True,
            allowed=("twitter", "facebook", "instagram", "reddit", "trustpilot", "other"),
        ),
        C("author_handle", "string", "Public handle of the author. Personal data.", pii=True),
        C("customer_id", "string", "Matched customer, when the handle is linked.", references="customers.customer_id"),
        C("posted_at", "timestamp", "When it was posted (UTC).", required=True, not_future=True),
        C("text", "string", "Post text.", max_length=MAX_TEXT),
        C("url", "string", "Link to the post.", max_length=2_000),
    ),
)

CONSENTS = Table(
    name="consents",
    source="crm",
    description="One row per consent record: a customer's permission for a purpose on a channel, granted and possibly revoked.",
    key="consent_id",
    day_column="granted_at",
    updated_column="updated_at",
    columns=(
        C("consent_id", "string", "Consent record identifier.", required=True),
        C("customer_id", "string", "Customer who gave the consent.", required=True, references="customers.customer_id"),
        C(
            "channel",
            "string",
            "Channel covered.",
            required=True,
            allowed=("email", "sms", "phone", "push", "post", "any"),
        ),
        C(
            "purpose",
            "string",
            "Purpose covered.",
            required=True,
            allowed=("marketing", "service", "research", "profiling"),
        ),
        C("granted_at", "timestamp", "When it was granted (UTC).", required=True, not_future=True),
        C("revoked_at", "timestamp", "When it was revoked (UTC); empty while in force.", not_future=True),
        C("updated_at", "timestamp", "When the record last changed (UTC).", not_future=True),
        C("source_system", "string", "Where it was captured (web form, call, preference centre, ...)."),
    ),
)

TREATMENT_EXPOSURES = Table(
    name="treatment_exposures",
    source="marketing",
    description=(
        "One row per activation decision carried out or withheld: the treatment decided for a customer, its "
        "experiment and the customer's arm (treated: sent; holdout: withheld at random), the channel and when."
    ),
    key="exposure_id",
    day_column="exposed_at",
    columns=(
        C("exposure_id", "string", "Exposure identifier.", required=True),
        C("customer_id", "string", "Customer the decision was for.", required=True, references="customers.customer_id"),
        C("treatment_id", "string", "Treatment decided (the treatment catalogue's id).", required=True),
        C(
            "experiment_id",
            "string",
            "Experiment the decision belongs to (`<treatment_id>_v<version>`).",
            required=True,
        ),
        C("arm", "string", "Arm of the customer in the experiment.", required=True, allowed=("treated", "holdout")),
        C(
            "channel",
            "string",
            "Channel used (or that would have been).",
            allowed=("email", "sms", "phone", "in_app", "none"),
        ),
        C(
            "exposed_at",
            "timestamp",
            "When the decision was carried out or withheld (UTC).",
            required=True,
            not_future=True,
        ),
    ),
)

TABLES: tuple[Table, ...] = (
    CUSTOMERS,
    CONSENTS,
    ORDERS,
    ORDER_ITEMS,
    PAYMENTS,
    SUBSCRIPTIONS,
    SHIPMENTS,
    AGENTS,
    SUPPORT_TICKETS,
    TICKET_MESSAGES,
    CHATS,
    CALLS,
    EMAIL_EVENTS,
    WEB_EVENTS,
    SURVEY_INVITATIONS,
    SURVEY_RESPONSES,
    REVIEWS,
    SOCIAL_MENTIONS,
    TREATMENT_EXPOSURES,
)

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

SOURCE_DESCRIPTIONS = {
    "crm": "Customer master data and consent records from the CRM.",
    "commerce": "Orders, order lines, payments, subscriptions and shipments from the commerce and billing systems.",
    "support": "Tickets, messages, chats, calls and agents from the contact centre.",
    "marketing": "E-mail platform events.",
    "digital": "Web and app analytics events.",
    "feedback": "Surveys, reviews and social mentions.",
}

RAW_SCHEMA = "raw"


def table(name: str) -> Table:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(BY_NAME))
        raise KeyError(f"unknown raw table '{name}'; the contract knows: {known}") from None


def load_order() -> list[Table]:
    """Tables in an order where every referenced table comes before its referrers."""
    done: list[Table] = []
    seen: set[str] = set()

    def visit(t: Table) -> None:
        if t.name in seen:
            return
        seen.add(t.name)
        for c in t.columns:
            if c.references:
                parent = c.references.split(".")[0]
                if parent != t.name:
                    visit(BY_NAME[parent])
        done.append(t)

    for t in TABLES:
        visit(t)
    return done


EXPORT_SHAPES = (
    "## Export shapes",
    "",
    "A table with an `updated_at` column can be sent in either of the two shapes companies export, and the two",
    "can be mixed (the shape is told apart per record):",
    "",
    "- **Current state**: one row per record as it stands now, with its start and end timestamps (a subscription",
    "  with `started_at`, `ended_at`, `price_changed_at`, and an `updated_at` that is often the time of the",
    "  cancellation). A record sent once is read as valid from its start: a subscription was active before",
    "  `ended_at` and cost `previous_monthly_amount` before `price_changed_at`.",
    "- **Change history**: one row per version (a change-data-capture or daily-snapshot export), each valid from",
    "  its `updated_at` until the next; the first version from the start of the record.",
    "",
    "Re-sending the same version (the same record and `updated_at`) in a later file counts once; the row with the",
    "latest `updated_at` is the current state.",
    "",
    "### A subscription snapshot that shows only who left recently",
    "",
    "Many subscription exports (the public Telco churn data is one) hold every current subscriber plus those who",
    '"churned in the last N days", and nobody who left before. Send them as current-state rows: one per',
    "subscription with `started_at`, and `ended_at` for those who left (a churn flag without a date: any",
    "`ended_at` inside the window the export covers, e.g. its last day). The build recognises the shape",
    "(`intermediate.int_churn_horizon`, `horizon_method` = `churn window of the export ...`) when at least 10",
    "subscriptions ended, every end falls within the last dbt var `churn_window_max_days` days (92) before the",
    "data end, and the subscriptions go back at least twice that long before the first end. Then:",
    "",
    "- the churn horizon H runs from the latest 14-day snapshot date on or before the first end to the data end,",
    "  so the label window ends at the data end; only snapshots from that date on are labelled",
    '  (`int_churn_horizon.labels_from_date`): an earlier snapshot\'s "stayed" would be false, since the export',
    "  does not say who left before;",
    "- with a single labelled date there is no out-of-time backtest, so the churn candidates are chosen, calibrated",
    "  and judged on a customer holdout: customers are split by the first 8 bytes of sha256(`customer_id`) into",
    "  60% train, 20% calibrate and 20% evaluate (the same customer in the same part on every build). Each",
    "  candidate trains on the training customers, is Platt-scaled on the calibration customers and judged on",
    "  the evaluation customers at the labelled date; the one with the lowest log loss is the published model,",
    "  as judged (nothing is refitted on all customers);",
    "- `marts.dim_model_versions` says so on the churn version: `evaluation` = `customer_holdout`, `candidate` =",
    "  the chosen one, `metrics.selection` the log loss of each candidate, the holdout date and the part sizes;",
    "  `marts.fct_model_backtests` holds every candidate's figures with `evaluation` = `customer_holdout` and",
    "  `origin_date` = the labelled date;",
    "- `audit.model_status` marks `churn` and `churn_backtest` `degraded`, with the reason (no out-of-time",
    "  backtest origin: the labelled snapshots and the horizon, so judged on held-out customers) and the fix (send",
    "  churn history: ended subscriptions over several months). Scores are still published for every active",
    "  subscriber; a holdout shows how well the model ranks and is calibrated on other customers of the same",
    "  month, not how it holds up on a later month.",
    "",
    "The customer holdout is used whenever the labelled history is too short, or holds too few churners, for an",
    "out-of-time backtest (a training window, a calibration date and an origin a horizon apart), e.g. a shop whose",
    "export covers only its last eight months; send the full history of ended subscriptions and orders when there",
    "is one, and the backtest is out of time.",
)


def to_markdown() -> str:
    """The contract as Markdown (docs/raw_contract.md is written from this)."""
    out = [
        "# Raw-data contract",
        "",
        "Generated from `python/empathy/contract.py` by `empathy contract sources`; do not edit by hand.",
        "",
        "Land files as `<landing>/<table>/day=YYYY-MM-DD/<name>.parquet` (or `.csv`). Ids are strings, timestamps",
        "UTC. Every table but `customers` is optional. Extra columns are kept and carried through to staging:",
        "the gate registers each in `audit.extra_columns` (table, column, type, first seen), every staging model",
        "carries its table's extras under their own name (`extra__<name>` when the model has a column of that",
        "name), and `empathy contract sources` lists them in the source files marked `extra`. The `day=` folder",
        "is never a column.",
        "Rows that break a rule are quarantined in `audit.quarantine` with the rule, file and row; never dropped.",
        "",
        *EXPORT_SHAPES,
        "",
    ]
    for t in TABLES:
        optional = "required" if t.required_table else "optional"
        out += [
            f"## `{t.name}` ({t.source}, {optional})",
            "",
            t.description,
            "",
            f"Key: `{t.key}`"
            + (f"; the row with the latest `{t.updated_column}` wins" if t.updated_column else "")
            + f". Landing partition day: `{t.day_column}`.",
            "",
            "| column | type | rules | description |",
            "|---|---|---|---|",
        ]
        for c in t.columns:
            rules = c.rules(code="`")
            out.append(f"| `{c.name}` | {c.type} | {'; '.join(rules)} | {c.description} |")
        out.append("")
    return "\n".join(out)
