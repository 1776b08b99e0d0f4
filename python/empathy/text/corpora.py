"""Readers for the labelled data the text model trains and is evaluated on, mapped to the product's labels.

| data set                          | where                              | used for                                  |
|-----------------------------------|------------------------------------|-------------------------------------------|
| GoEmotions (Ekman, group, 28)     | ../shared/data/goemotions          | emotion and sentiment heads; praise/other |
| Bitext customer support           | ../shared/data/bitext_customer_support | intent and topic heads (80%), held out 20% |
| CFPB complaint narratives         | ../shared/data/cfpb_complaints     | complaints (80%), held out 20%            |
| Women's clothing reviews          | ../shared/data/womens_clothing_reviews | 1-2 star complaints, 5 star praise (80%) |
| banking77                         | ../shared/data/banking77           | support requests (train), held out (test) |
| seed set (project)                | empathy/text/data/seed_train.tsv   | intents and topics the public data lacks  |
| evaluation set (project)          | empathy/text/data/eval_multilingual.tsv | evaluation only: en, es, pt          |
| Women's clothing reviews          | ../shared/data/womens_clothing_reviews | evaluation only: the company model's out-of-time AUC |

GoEmotions' dev split is never trained on; its test split is not in the repo at all.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("data")


def shared_data_dir() -> Path:
    env = os.environ.get("EMPATHY_SHARED_DATA")
    if env:
        return Path(env)
    from empathy.config import find_project_dir

    return find_project_dir().parent / "shared" / "data"


def require_shared() -> Path:
    path = shared_data_dir()
    if not (path / "goemotions").exists():
        raise FileNotFoundError(
            f"labelled training data not found at {path}: set EMPATHY_SHARED_DATA to the folder holding "
            "goemotions/ and bitext_customer_support/"
        )
    return path


@dataclass
class Labelled:
    texts: list[str]
    labels: list[str]
    source: str

    def __len__(self) -> int:
        return len(self.texts)


GROUP_TO_SENTIMENT = {"positive": "positive", "negative": "negative", "neutral": "neutral", "ambiguous": "neutral"}


def goemotions(kind: str, split: str, single_label: bool = True) -> Labelled:
    """GoEmotions rows with their `kind` labels (ekman | group | original). Multi-label rows are skipped
    when `single_label`, else kept once per label."""
    folder = require_shared() / "goemotions" / kind
    names = (folder / "labels.txt").read_text().split()
    texts, labels = [], []
    with open(folder / f"{split}.tsv", encoding="utf-8") as handle:
        for line in handle:
            text, ids, _ = line.rstrip("\n").split("\t")
            ids = [int(i) for i in ids.split(",")]
            if single_label and len(ids) != 1:
                continue
            for i in ids:
                texts.append(text)
                labels.append(names[i])
    return Labelled(texts, labels, f"goemotions/{kind}/{split}")


BITEXT_INTENT = {
    "complaint": "complaint",
    "cancel_order": "cancellation_intent",
    "delete_account": "cancellation_intent",
    "check_cancellation_fee": "cancellation_intent",
    "place_order": "purchase_intent",
    "check_payment_methods": "purchase_intent",
    "delivery_options": "purchase_intent",
    "review": "other",
}  # everything else: support_request

BITEXT_TOPIC = {
    **dict.fromkeys(
        ["delivery_options", "delivery_period", "track_order", "change_shipping_address", "set_up_shipping_address"],
        "delivery",
    ),
    **dict.fromkeys(
        [
            "check_invoice",
            "get_invoice",
            "check_payment_methods",
            "payment_issue",
            "check_refund_policy",
            "get_refund",
            "track_refund",
            "check_cancellation_fee",
        ],
        "price_billing",
    ),
    **dict.fromkeys(
        [
            "create_account",
            "delete_account",
            "edit_account",
            "recover_password",
            "registration_problems",
            "switch_account",
        ],
        "account_technical",
    ),
    **dict.fromkeys(["contact_customer_service", "contact_human_agent", "complaint"], "service_staff"),
}  # everything else (orders, newsletter, review): other

BITEXT_NEGATIVE = {"complaint", "payment_issue", "registration_problems"}


@dataclass
class BitextRow:
    text: str
    intent: str  # Bitext's own intent
    category: str

    @property
    def product_intent(self) -> str:
        return BITEXT_INTENT.get(self.intent, "support_request")

    @property
    def topic(self) -> str:
        return BITEXT_TOPIC.get(self.intent, "other")

    @property
    def sentiment(self) -> str:
        return "negative" if self.intent in BITEXT_NEGATIVE else "neutral"


def bitext(split: str, holdout: float = 0.2, seed: int = 13) -> list[BitextRow]:
    """Bitext rows, split per Bitext intent into train (80%) and holdout (20%) with a fixed seed."""
    path = (
        require_shared()
        / "bitext_customer_support"
        / "Bitext_Sample_Customer_Support_Training_Dataset.v_2023-08-23.csv"
    )
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [BitextRow(r["instruction"], r["intent"], r["category"]) for r in csv.DictReader(handle)]
    by_intent: dict[str, list[BitextRow]] = {}
    for row in rows:
        by_intent.setdefault(row.intent, []).append(row)
    rng = random.Random(seed)
    out = []
    for intent in sorted(by_intent):
        group = by_intent[intent]
        rng.shuffle(group)
        cut = round(len(group) * holdout)
        out.extend(group[:cut] if split == "holdout" else group[cut:])
    return out


def project_tsv(name: str) -> list[dict[str, str]]:
    path = DATA / name
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def seed_rows() -> list[dict[str, str]]:
    return project_tsv("seed_train.tsv")


def eval_rows() -> list[dict[str, str]]:
    return project_tsv("eval_multilingual.tsv")


SEED_SENTIMENT = {"complaint": "negative", "cancellation_intent": "negative", "praise": "positive"}


# -- real customer text: complaints, reviews, banking queries ---------------------------------------------------

TOPIC_TO_REASON = {
    "delivery": "delivery",
    "product_quality": "quality",
    "price_billing": "billing",
    "service_staff": "staff",
    "account_technical": "technical",
    "other": "other",
}
SNIPPET_WORDS = 45  # customer messages are short: a long narrative is cut to its opening sentences
_MASK = re.compile(r"\bX{2,}(?:/X{2,})*\b|\{\$[\d,.]+\}")


@dataclass
class CustomerRow:
    text: str
    intent: str  # product intent
    topic: str  # product topic (a complaint's reason through TOPIC_TO_REASON)
    source: str


def in_holdout(key: str, share: float = 0.2) -> bool:
    """Stable split by a row's own key: the same row is held out whatever else the file holds."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def _split(rows: list[CustomerRow], split: str) -> list[CustomerRow]:
    keep_holdout = split == "holdout"
    return [r for r in rows if in_holdout(r.source + r.text) == keep_holdout]


def snippet(text: str, words: int = SNIPPET_WORDS) -> str:
    """The opening sentences of a narrative, masks removed, at most about `words` words."""
    text = " ".join(_MASK.sub("", text).split())
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out: list[str] = []
    for sentence in sentences:
        if out and len(" ".join([*out, sentence]).split()) > words:
            break
        out.append(sentence)
    return " ".join(" ".join(out).split()[: words * 2])


CFPB_TOPIC_WORDS = (
    ("price_billing", ("fee", "charge", "interest", "billing", "payment", "statement", "overdraft", "refund", "money")),
    ("service_staff", ("customer service", "communication", "representative", "threat", "harass", "contact")),
    ("account_technical", ("online", "access", "managing", "opening", "closing", "login", "website", "app")),
)


def cfpb_topic(issue: str) -> str:
    issue = issue.lower()
    for topic, words in CFPB_TOPIC_WORDS:
        if any(w in issue for w in words):
            return topic
    return "other"


def cfpb(split: str) -> list[CustomerRow]:
    """Consumer complaints to the CFPB (narratives only), as short complaint messages with a topic from the issue."""
    folder = require_shared() / "cfpb_complaints"
    rows: list[CustomerRow] = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                narrative = record.get("Consumer complaint narrative") or ""
                if len(narrative.split()) >= 5:
                    topic = cfpb_topic(f"{record.get('Issue') or ''} {record.get('Sub-issue') or ''}")
                    rows.append(CustomerRow(snippet(narrative), "complaint", topic, "cfpb"))
    for record in json.loads((folder / "cfpb_stratified_11_products_220.json").read_text(encoding="utf-8")):
        rows.append(CustomerRow(snippet(record["text"]), "complaint", "other", "cfpb"))
    return _split(rows, split)


def clothing_reviews(split: str) -> list[CustomerRow]:
    """E-commerce reviews: 1-2 stars not recommended are quality complaints; 5 stars recommended are praise."""
    path = require_shared() / "womens_clothing_reviews" / "womens_clothing_ecommerce_reviews.csv"
    rows: list[CustomerRow] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            body = " ".join(filter(None, [record["Title"], record["Review Text"]])).strip()
            if not body:
                continue
            rating, recommended = int(record["Rating"]), record["Recommended IND"] == "1"
            if rating <= 2 and not recommended:
                rows.append(CustomerRow(snippet(body), "complaint", "product_quality", "reviews"))
            elif rating == 5 and recommended:
                rows.append(CustomerRow(snippet(body), "praise", "product_quality", "reviews"))
    return _split(rows, split)


BANKING_INTENT = {"terminate_account": "cancellation_intent"}  # everything else: support_request
BANKING_TOPIC_WORDS = (
    ("delivery", ("card_arrival", "card_delivery_estimate", "order_physical_card", "get_physical_card")),
    ("price_billing", ("fee", "charge", "refund", "exchange", "payment", "top_up", "transfer", "cash", "balance")),
    ("account_technical", ("not_working", "pin", "passcode", "verify", "identity", "virtual", "app", "lost", "stolen")),
)


def banking_topic(category: str) -> str:
    for topic, words in BANKING_TOPIC_WORDS:
        if any(w in category for w in words):
            return topic
    return "other"


def banking77(split: str) -> list[CustomerRow]:
    """Online-banking queries (train.csv or test.csv): support requests, account closing as cancellation."""
    path = require_shared() / "banking77" / ("test.csv" if split == "holdout" else "train.csv")
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            CustomerRow(
                r["text"],
                BANKING_INTENT.get(r["category"], "support_request"),
                banking_topic(r["category"]),
                "banking77",
            )
            for r in csv.DictReader(handle)
        ]


WOMENS_CLOTHING = Path("womens_clothing_reviews") / "womens_clothing_ecommerce_reviews.csv"


def womens_clothing_reviews() -> Labelled:
    """The reviews with a text, in file order, labelled by their stars (1-2 negative, 3 neutral, 4-5 positive)."""
    from empathy.text.domain import rating_to_label

    path = shared_data_dir() / WOMENS_CLOTHING
    if not path.exists():
        raise FileNotFoundError(f"rated reviews not found at {path}: set EMPATHY_SHARED_DATA to the folder holding it")
    texts, labels = [], []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text, label = (row.get("Review Text") or "").strip(), rating_to_label("review", _number(row.get("Rating")))
            if text and label:
                texts.append(text)
                labels.append(label)
    return Labelled(texts, labels, "womens_clothing_reviews")


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
