"""Sector presets: the same simulation with a different business around it.

* ``retail`` (default): a web shop. Orders and shipments dominate; a small paid membership.
* ``subscription``: financial services / SaaS. Most customers hold a subscription billed monthly,
  price increases roll out in waves; few orders (devices and add-ons).
* ``healthcare``: a clinic network. Orders are booked appointments and tests (service orders),
  bills are paid after the visit, calls and tickets are frequent, fear and anxiety more common.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    name: str
    kinds: tuple[tuple[str, str, str], ...]  # product kinds: (en, es, pt)
    price: tuple[float, float]  # unit price range in USD
    defect_rate: float  # per item
    fulfilment: str  # "ship" (parcel), "service" (appointment/session), "digital" (immediate)
    results: bool = False  # a test whose results the customer waits for (health worry)
    weight: float = 1.0  # share of order lines


@dataclass(frozen=True)
class Plan:
    name: str
    monthly: float  # USD
    business_only: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class PriceWave:
    at: float  # fraction of the window when the new price applies
    plans: tuple[str, ...]
    increase: float  # relative, e.g. 0.15
    notice_days: int  # a service e-mail announces it this many days before
    share: float = 1.0  # share of matching subscriptions affected


@dataclass(frozen=True)
class SectorPreset:
    name: str
    description: str
    brand: str
    handle: str  # the company's social-media handle
    persona_weights: tuple[float, ...]  # enthusiast, content, neutral, critical, anxious
    business_share: float
    orders_per_year: float  # mean per active customer
    extra_items_mean: float  # order lines beyond the first (Poisson mean)
    categories: tuple[Category, ...]
    order_channels: tuple[float, float, float, float]  # web, app, store, phone
    late_rate: float  # share of parcels delivered late
    late_days_mean: float
    cancel_rate: float
    changed_mind_rate: float  # per delivered item
    service_delay_rate: float  # per service order
    billing_surprise_rate: float  # per invoice (service orders)
    subscription_share: float  # customers holding a subscription
    second_subscription_share: float
    plans: tuple[Plan, ...]
    price_waves: tuple[PriceWave, ...]
    payment_failure_rate: float
    contacts_per_year: float  # background contacts (questions, requests) per customer
    contact_channels: tuple[float, float, float, float, float]  # email, web, chat, phone, social
    web_sessions_per_year: float
    promo_weekdays: tuple[int, ...]  # Monday = 0
    newsletter_every_weeks: int
    burst_weeks: int  # weeks with daily promotions for the high-frequency cohort
    high_frequency_share: float  # customers in the marketing high-frequency cohort
    churn_annual: float  # base annual churn probability (neutral customer, no events)
    pages: tuple[str, ...]
    help_pages: tuple[str, ...]
    queues: dict  # text cause -> call queue
    ticket_categories: dict  # text cause -> ticket category


_RETAIL_CATEGORIES = (
    Category("kitchen", (
        ("blender", "licuadora", "liquidificador"),
        ("coffee maker", "cafetera", "cafeteira"),
        ("toaster", "tostadora", "torradeira"),
        ("electric kettle", "hervidor eléctrico", "chaleira elétrica"),
        ("air fryer", "freidora de aire", "fritadeira elétrica"),
    ), (25, 180), 0.035, "ship", weight=1.2),
    Category("electronics", (
        ("headphones", "auriculares", "fones de ouvido"),
        ("bluetooth speaker", "altavoz bluetooth", "caixa de som bluetooth"),
        ("phone charger", "cargador", "carregador"),
        ("smartwatch", "reloj inteligente", "relógio inteligente"),
        ("tablet", "tablet", "tablet"),
    ), (15, 400), 0.04, "ship", weight=1.3),
    Category("home", (
        ("desk lamp", "lámpara de escritorio", "luminária de mesa"),
        ("duvet", "edredón", "edredom"),
        ("cushion set", "juego de cojines", "jogo de almofadas"),
        ("storage box", "caja organizadora", "caixa organizadora"),
    ), (10, 120), 0.02, "ship"),
    Category("apparel", (
        ("jacket", "chaqueta", "jaqueta"),
        ("sneakers", "zapatillas", "tênis"),
        ("t-shirt", "camiseta", "camiseta"),
        ("jeans", "vaqueros", "calça jeans"),
    ), (15, 150), 0.015, "ship", weight=1.4),
    Category("beauty", (
        ("face cream", "crema facial", "creme facial"),
        ("shampoo", "champú", "xampu"),
        ("perfume", "perfume", "perfume"),
    ), (8, 90), 0.01, "ship", weight=0.8),
    Category("toys", (
        ("board game", "juego de mesa", "jogo de tabuleiro"),
        ("building blocks", "bloques de construcción", "blocos de montar"),
        ("puzzle", "rompecabezas", "quebra-cabeça"),
    ), (10, 80), 0.02, "ship", weight=0.6),
)  # fmt: skip

_SUBSCRIPTION_CATEGORIES = (
    Category("devices", (
        ("card reader", "lector de tarjetas", "maquininha de cartão"),
        ("security key", "llave de seguridad", "chave de segurança"),
        ("metal card", "tarjeta metálica", "cartão metálico"),
    ), (20, 150), 0.04, "ship"),
    Category("add-ons", (
        ("extra storage", "almacenamiento adicional", "armazenamento extra"),
        ("premium support", "soporte premium", "suporte premium"),
        ("extra user seat", "usuario adicional", "usuário adicional"),
    ), (10, 120), 0.0, "digital", weight=1.5),
    Category("onboarding", (
        ("onboarding session", "sesión de incorporación", "sessão de integração"),
        ("account migration", "migración de cuenta", "migração de conta"),
    ), (50, 300), 0.0, "service", weight=0.5),
)  # fmt: skip

_HEALTHCARE_CATEGORIES = (
    Category("consultation", (
        ("general consultation", "consulta general", "consulta geral"),
        ("specialist visit", "consulta con el especialista", "consulta com especialista"),
        ("video consultation", "teleconsulta", "teleconsulta"),
    ), (40, 180), 0.0, "service", weight=2.0),
    Category("diagnostics", (
        ("blood test", "análisis de sangre", "exame de sangue"),
        ("MRI scan", "resonancia magnética", "ressonância magnética"),
        ("X-ray", "radiografía", "raio-x"),
        ("ultrasound", "ecografía", "ultrassom"),
    ), (30, 600), 0.0, "service", results=True, weight=1.2),
    Category("therapy", (
        ("physiotherapy session", "sesión de fisioterapia", "sessão de fisioterapia"),
        ("dental cleaning", "limpieza dental", "limpeza dentária"),
    ), (40, 120), 0.0, "service"),
    Category("pharmacy", (
        ("prescription refill", "renovación de receta", "renovação de receita"),
        ("allergy medication", "medicamento para la alergia", "remédio para alergia"),
    ), (5, 80), 0.015, "ship", weight=0.8),
    Category("home kits", (
        ("home test kit", "kit de prueba en casa", "kit de teste em casa"),
    ), (20, 90), 0.03, "ship", results=True, weight=0.4),
)  # fmt: skip

_RETAIL_QUEUES = {
    "late_delivery": "orders", "defective_item": "returns", "wrong_item": "returns", "refund_status": "returns",
    "price_increase": "billing", "payment_failed": "billing", "billing_surprise": "billing",
    "service_delay": "orders", "ticket_unresolved": "general", "bad_resolution": "general",
    "good_resolution": "general", "web_error": "technical", "over_contact": "general",
    "product_question": "sales", "account_question": "general", "feature_request": "general",
    "praise": "general", "cancellation": "retention",
}  # fmt: skip
_RETAIL_CATS = {
    "late_delivery": "delivery", "defective_item": "product", "wrong_item": "returns", "refund_status": "returns",
    "price_increase": "pricing", "payment_failed": "billing", "billing_surprise": "billing",
    "service_delay": "delivery", "ticket_unresolved": "complaint", "bad_resolution": "complaint",
    "good_resolution": "feedback", "web_error": "technical", "over_contact": "marketing",
    "product_question": "product", "account_question": "account", "feature_request": "feedback",
    "praise": "feedback", "cancellation": "cancellation",
}  # fmt: skip

PRESETS: dict[str, SectorPreset] = {
    "retail": SectorPreset(
        name="retail",
        description="Web shop: orders and shipments heavy, a small paid membership subscription.",
        brand="Northwind",
        handle="@northwind",
        persona_weights=(0.18, 0.34, 0.28, 0.14, 0.06),
        business_share=0.06,
        orders_per_year=6.0,
        extra_items_mean=1.1,
        categories=_RETAIL_CATEGORIES,
        order_channels=(0.55, 0.27, 0.14, 0.04),
        late_rate=0.10,
        late_days_mean=3.0,
        cancel_rate=0.03,
        changed_mind_rate=0.04,
        service_delay_rate=0.0,
        billing_surprise_rate=0.0,
        subscription_share=0.07,
        second_subscription_share=0.0,
        plans=(Plan("membership", 9.99),),
        price_waves=(PriceWave(0.55, ("membership",), 0.20, 21),),
        payment_failure_rate=0.02,
        contacts_per_year=0.25,
        contact_channels=(0.35, 0.20, 0.30, 0.10, 0.05),
        web_sessions_per_year=26.0,
        promo_weekdays=(1, 4),
        newsletter_every_weeks=2,
        burst_weeks=5,
        high_frequency_share=0.30,
        churn_annual=0.10,
        pages=(
            "/",
            "/category/kitchen",
            "/category/electronics",
            "/category/home",
            "/category/apparel",
            "/category/beauty",
            "/category/toys",
            "/deals",
            "/account",
            "/orders",
            "/wishlist",
        ),
        help_pages=("/help", "/help/where-is-my-order", "/help/returns", "/help/refunds", "/help/contact"),
        queues=_RETAIL_QUEUES,
        ticket_categories=_RETAIL_CATS,
    ),
    "subscription": SectorPreset(
        name="subscription",
        description="Financial services / SaaS: subscriptions and monthly payments heavy, price increases, few orders.",
        brand="Ledgerly",
        handle="@ledgerly",
        persona_weights=(0.14, 0.34, 0.32, 0.14, 0.06),
        business_share=0.22,
        orders_per_year=0.6,
        extra_items_mean=0.2,
        categories=_SUBSCRIPTION_CATEGORIES,
        order_channels=(0.60, 0.35, 0.0, 0.05),
        late_rate=0.08,
        late_days_mean=2.5,
        cancel_rate=0.02,
        changed_mind_rate=0.02,
        service_delay_rate=0.10,
        billing_surprise_rate=0.0,
        subscription_share=0.85,
        second_subscription_share=0.12,
        plans=(
            Plan("basic", 9.99, weight=3.0),
            Plan("plus", 19.99, weight=2.5),
            Plan("premium", 39.99, weight=1.2),
            Plan("business", 89.0, business_only=True, weight=1.0),
        ),
        price_waves=(PriceWave(0.35, ("basic", "plus"), 0.15, 30), PriceWave(0.70, ("premium", "business"), 0.12, 30)),
        payment_failure_rate=0.03,
        contacts_per_year=0.5,
        contact_channels=(0.25, 0.20, 0.35, 0.15, 0.05),
        web_sessions_per_year=36.0,
        promo_weekdays=(2,),
        newsletter_every_weeks=2,
        burst_weeks=3,
        high_frequency_share=0.25,
        churn_annual=0.08,
        pages=(
            "/",
            "/dashboard",
            "/accounts",
            "/transactions",
            "/statements",
            "/settings",
            "/plans",
            "/integrations",
            "/reports",
            "/billing",
        ),
        help_pages=("/help", "/help/billing", "/help/cancel", "/help/security", "/help/contact"),
        queues={
            **_RETAIL_QUEUES,
            "late_delivery": "orders",
            "service_delay": "technical",
            "product_question": "sales",
            "defective_item": "technical",
        },
        ticket_categories={**_RETAIL_CATS, "service_delay": "onboarding", "defective_item": "technical"},
    ),
    "healthcare": SectorPreset(
        name="healthcare",
        description="Clinic network: appointment-like service orders, bills after the visit, calls and tickets heavy, more fear.",
        brand="Clarion Health",
        handle="@clarionhealth",
        persona_weights=(0.12, 0.30, 0.26, 0.12, 0.20),
        business_share=0.03,
        orders_per_year=3.5,
        extra_items_mean=0.3,
        categories=_HEALTHCARE_CATEGORIES,
        order_channels=(0.40, 0.25, 0.0, 0.35),
        late_rate=0.09,
        late_days_mean=2.0,
        cancel_rate=0.06,
        changed_mind_rate=0.01,
        service_delay_rate=0.10,
        billing_surprise_rate=0.10,
        subscription_share=0.15,
        second_subscription_share=0.0,
        plans=(Plan("care basic", 19.0, weight=2.0), Plan("care plus", 39.0), Plan("family", 69.0, weight=0.7)),
        price_waves=(PriceWave(0.60, ("care basic", "care plus", "family"), 0.08, 30),),
        payment_failure_rate=0.04,
        contacts_per_year=0.8,
        contact_channels=(0.15, 0.15, 0.10, 0.55, 0.05),
        web_sessions_per_year=12.0,
        promo_weekdays=(),
        newsletter_every_weeks=1,
        burst_weeks=2,
        high_frequency_share=0.20,
        churn_annual=0.07,
        pages=(
            "/",
            "/appointments",
            "/book",
            "/results",
            "/billing",
            "/doctors",
            "/locations",
            "/account",
            "/prescriptions",
        ),
        help_pages=("/help", "/help/appointments", "/help/billing", "/help/results", "/help/contact"),
        queues={
            **_RETAIL_QUEUES,
            "late_delivery": "pharmacy",
            "service_delay": "appointments",
            "defective_item": "pharmacy",
            "product_question": "appointments",
            "billing_surprise": "billing",
        },
        ticket_categories={
            **_RETAIL_CATS,
            "service_delay": "appointments",
            "late_delivery": "pharmacy",
            "product_question": "appointments",
            "defective_item": "pharmacy",
        },
    ),
}

PERSONAS: tuple[str, ...] = ("enthusiast", "content", "neutral", "critical", "anxious")
# baseline valence mean, baseline arousal mean, purchase-rate multiplier
PERSONA_BASELINES = {
    "enthusiast": (0.45, 0.55, 1.4),
    "content": (0.22, 0.40, 1.1),
    "neutral": (0.02, 0.35, 0.9),
    "critical": (-0.18, 0.50, 0.8),
    "anxious": (-0.08, 0.62, 0.9),
}


def preset(name: str) -> SectorPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown sector '{name}'; choose one of: {', '.join(PRESETS)}") from None


def presets_markdown() -> str:
    """The sector presets as a Markdown table (embedded in docs/demo_world.md; a test keeps them equal)."""
    rows = [
        ("orders per customer-year", lambda p: f"{p.orders_per_year:g}"),
        ("order lines beyond the first (mean)", lambda p: f"{p.extra_items_mean:g}"),
        ("fulfilment", lambda p: ", ".join(sorted({c.fulfilment for c in p.categories}))),
        ("late parcels", lambda p: f"{p.late_rate:.0%} (mean {p.late_days_mean:g} days late)"),
        ("service orders postponed", lambda p: f"{p.service_delay_rate:.0%}"),
        ("surprise bills", lambda p: f"{p.billing_surprise_rate:.0%}"),
        ("customers with a subscription", lambda p: f"{p.subscription_share:.0%}"),
        ("plans (USD / month)", lambda p: ", ".join(f"{x.name} {x.monthly:g}" for x in p.plans)),
        (
            "price increases",
            lambda p: "; ".join(
                f"+{w.increase:.0%} on {', '.join(w.plans)} at {w.at:.0%} of the window" for w in p.price_waves
            ),
        ),
        ("failed subscription payments", lambda p: f"{p.payment_failure_rate:.0%}"),
        ("background contacts per customer-year", lambda p: f"{p.contacts_per_year:g}"),
        (
            "contact channels (email/web/chat/phone/social)",
            lambda p: " / ".join(f"{x:.0%}" for x in p.contact_channels),
        ),
        ("web sessions per customer-year", lambda p: f"{p.web_sessions_per_year:g}"),
        ("promotional e-mails per week", lambda p: f"{len(p.promo_weekdays)}"),
        ("newsletter", lambda p: f"every {p.newsletter_every_weeks} week(s)"),
        (
            "burst weeks per year (high-frequency cohort)",
            lambda p: f"{p.burst_weeks} ({p.high_frequency_share:.0%} of customers)",
        ),
        ("business customers", lambda p: f"{p.business_share:.0%}"),
        (
            "personas (enthusiast/content/neutral/critical/anxious)",
            lambda p: " / ".join(f"{x:.0%}" for x in p.persona_weights),
        ),
        ("base churn per year (neutral customer)", lambda p: f"{p.churn_annual:.0%}"),
    ]
    names = list(PRESETS)
    lines = ["| | " + " | ".join(f"`{n}`" for n in names) + " |", "|---|" + "---|" * len(names)]
    for label, fn in rows:
        lines.append(f"| {label} | " + " | ".join(fn(PRESETS[n]) for n in names) + " |")
    return "\n".join(lines)
