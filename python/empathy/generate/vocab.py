"""Code lists of the demo world (categorical columns are simulated as integer codes into these)."""

from __future__ import annotations

from empathy import contract


def allowed(table: str, column: str) -> tuple[str, ...]:
    values = contract.table(table).column(column).allowed
    assert values is not None, f"{table}.{column} has no allowed values"
    return values


LANGS: tuple[str, ...] = ("en", "es", "pt")
EN, ES, PT = 0, 1, 2

# country, language, locale, region, currency, UTC offset (hours), share of customers
COUNTRY_ROWS: tuple[tuple[str, int, str, str, str, int, float], ...] = (
    ("US", EN, "en-US", "North America", "USD", -5, 0.470),
    ("GB", EN, "en-GB", "Europe", "GBP", 0, 0.140),
    ("CA", EN, "en-CA", "North America", "CAD", -5, 0.080),
    ("AU", EN, "en-AU", "APAC", "AUD", 10, 0.060),
    ("IE", EN, "en-IE", "Europe", "EUR", 0, 0.020),
    ("NZ", EN, "en-NZ", "APAC", "NZD", 12, 0.010),
    ("US", ES, "es-US", "North America", "USD", -6, 0.020),
    ("ES", ES, "es-ES", "Europe", "EUR", 1, 0.035),
    ("MX", ES, "es-MX", "LATAM", "MXN", -6, 0.040),
    ("AR", ES, "es-AR", "LATAM", "ARS", -3, 0.015),
    ("CO", ES, "es-CO", "LATAM", "COP", -5, 0.010),
    ("BR", PT, "pt-BR", "LATAM", "BRL", -3, 0.080),
    ("PT", PT, "pt-PT", "Europe", "EUR", 0, 0.020),
)
COUNTRIES: tuple[str, ...] = tuple(sorted({r[0] for r in COUNTRY_ROWS}))
LOCALES: tuple[str, ...] = tuple(r[2] for r in COUNTRY_ROWS)
REGIONS: tuple[str, ...] = ("North America", "Europe", "LATAM", "APAC")
CURRENCIES: tuple[str, ...] = ("USD", "GBP", "CAD", "AUD", "EUR", "NZD", "MXN", "ARS", "COP", "BRL")
# units of the currency per USD (rounded, fixed: the world has no FX movements)
FX: tuple[float, ...] = (1.0, 0.79, 1.36, 1.52, 0.92, 1.65, 17.0, 900.0, 4000.0, 5.0)
# how amounts are written in text: (prefix, suffix)
CURRENCY_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("$", ""), ("£", ""), ("CA$", ""), ("A$", ""), ("", " €"), ("NZ$", ""), ("MX$", ""), ("AR$", ""),
    ("COL$", ""), ("R$ ", ""),
)  # fmt: skip

AGE_BANDS = allowed("customers", "age_band")
GENDERS = allowed("customers", "gender")
SEGMENTS = allowed("customers", "segment")
COMPANY_SIZES = allowed("customers", "company_size")
INDUSTRIES: tuple[str, ...] = ("retail", "manufacturing", "professional services", "technology", "healthcare",
                               "hospitality", "construction", "education", "logistics", "finance")  # fmt: skip
ACQUISITION_CHANNELS: tuple[str, ...] = ("organic_search", "paid_search", "social", "referral", "email", "affiliate",
                                         "store", "partner", "direct")  # fmt: skip
LOYALTY_TIERS: tuple[str, ...] = ("bronze", "silver", "gold")

ORDER_STATUS = allowed("orders", "status")
ORDER_CHANNELS = allowed("orders", "channel")  # web, app, store, phone
RETURN_REASONS = allowed("order_items", "return_reason")
PAYMENT_METHODS = allowed("payments", "method")
PAYMENT_STATUS = allowed("payments", "status")
SUB_STATUS = allowed("subscriptions", "status")
CANCEL_REASONS: tuple[str, ...] = ("too expensive", "poor service", "delivery problems", "product quality",
                                   "moving", "no longer needed", "switched to a competitor", "financial reasons",
                                   "billing problems", "technical problems")  # fmt: skip
CARRIERS: tuple[str, ...] = ("UPS", "FedEx", "DHL", "USPS", "Royal Mail", "Canada Post", "Australia Post",
                             "Correos", "Estafeta", "Correo Argentino", "Servientrega", "Correios", "CTT", "DPD",
                             "NZ Post")  # fmt: skip
TICKET_CHANNELS = allowed("support_tickets", "channel")  # email, web, chat, phone, social
PRIORITIES = allowed("support_tickets", "priority")
TICKET_STATUS = allowed("support_tickets", "status")
AUTHOR_TYPES = allowed("ticket_messages", "author_type")
CALL_DIRECTIONS = allowed("calls", "direction")
CALL_OUTCOMES = allowed("calls", "outcome")
TEAMS = allowed("agents", "team")
AGENT_SKILLS: tuple[str, ...] = ("billing", "technical", "retention", "complaints", "orders", "returns",
                                 "appointments", "sales")  # fmt: skip
CAMPAIGN_TYPES = allowed("email_events", "campaign_type")
EMAIL_EVENT_TYPES = allowed("email_events", "event_type")
WEB_EVENT_TYPES = allowed("web_events", "event_type")
DEVICES = allowed("web_events", "device")
SURVEY_TYPES = allowed("survey_invitations", "survey_type")
SURVEY_CHANNELS = allowed("survey_invitations", "channel")
SURVEY_TRIGGERS = allowed("survey_invitations", "trigger")
PLATFORMS = allowed("social_mentions", "platform")
CONSENT_CHANNELS = allowed("consents", "channel")
CONSENT_PURPOSES = allowed("consents", "purpose")
CONSENT_SOURCES: tuple[str, ...] = ("web_form", "checkout", "call", "preference_centre", "app", "store")


# Consent types every customer may hold: (channel, purpose, share granting at sign-up)
CONSENT_TYPES: tuple[tuple[str, str, float], ...] = (
    ("email", "service", 0.97),
    ("email", "marketing", 0.82),
    ("sms", "marketing", 0.30),
    ("any", "profiling", 0.35),
    ("email", "research", 0.45),
)
EMAIL_SERVICE, EMAIL_MARKETING, SMS_MARKETING, PROFILING, RESEARCH = range(len(CONSENT_TYPES))


def code(values: tuple[str, ...], value: str) -> int:
    return values.index(value)
