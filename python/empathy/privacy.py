"""What BI may read: customers under a keyed pseudonym, free text with contacts and account numbers masked.

* `customer_key(customer_id, salt)` is the pseudonym every published table carries instead of a customer id:
  HMAC-SHA256 keyed with the installation's secret salt (env var EMPATHY_PII_SALT), as lower-case hex. The same
  customer has the same key in every mart, so BI joins still work; without the salt a list of ids or e-mail
  addresses cannot be turned into keys. `pii_hash` is the same HMAC over a trimmed, lower-cased value (the
  `email_hash` and `author_handle_hash` of staging, macro hash_pii).
* `redact(text)` masks e-mail addresses, IBANs, card numbers, phone numbers and street addresses in free text.
* `resolve_salt(landing)` finds the salt: the env var, or on the demo world only (a landing folder holding the
  generator's `_truth/`), the documented, public `DEMO_SALT`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from pathlib import Path

SALT_ENV = "EMPATHY_PII_SALT"
MIN_SALT_LENGTH = 16
# Public on purpose: the demo world is synthetic, and its published keys need no secret.
DEMO_SALT = "empathy-demo-world-salt-not-secret"
DEMO_MARKER = "_truth"  # written by `empathy generate`, never by a company export

BLOCK = 64  # SHA-256 block size in bytes


class SaltMissing(RuntimeError):
    pass


def demo_salt(landing: Path) -> str | None:
    """The public demo salt when `landing` is the demo world and no salt is set, else None."""
    if os.environ.get(SALT_ENV) or not (landing / DEMO_MARKER).is_dir():
        return None
    return DEMO_SALT


def resolve_salt(landing: Path) -> str:
    """The salt of this installation; the demo salt only for the demo world; otherwise a clear error."""
    salt = os.environ.get(SALT_ENV, "")
    if salt:
        if len(salt) < MIN_SALT_LENGTH:
            raise SaltMissing(
                f"{SALT_ENV} is {len(salt)} characters long; use at least {MIN_SALT_LENGTH} random characters, "
                "e.g. `export EMPATHY_PII_SALT=$(openssl rand -hex 32)`, and keep it secret and unchanged "
                "(a new salt gives every customer a new key)"
            )
        return salt
    if (landing / DEMO_MARKER).is_dir():
        return DEMO_SALT
    raise SaltMissing(
        f"{SALT_ENV} is not set: without a secret salt the published customer keys and e-mail hashes could be "
        f"re-identified from a list of ids or addresses. Set it (e.g. `export {SALT_ENV}=$(openssl rand -hex 32)`), "
        f"keep it secret and unchanged between runs; only the demo world (a landing folder with {DEMO_MARKER}/, "
        f"here {landing}) uses the public demo salt."
    )


def customer_key(customer_id: str, salt: str) -> str:
    """The published pseudonym of a customer id: HMAC-SHA256(salt, id) as hex."""
    return hmac.new(salt.encode(), str(customer_id).encode(), hashlib.sha256).hexdigest()


def pii_hash(value: str | None, salt: str) -> str | None:
    """The keyed hash of a personal value as staging computes it (trimmed, lower-cased; empty -> None)."""
    text = None if value is None else str(value).strip().lower()
    return customer_key(text, salt) if text else None


def hmac_sql(expr: str, salt: str) -> str:
    """A DuckDB expression equal to `customer_key(expr, salt)` (the salt's pads as literals)."""
    key = salt.encode()
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\0")
    inner = bytes(b ^ 0x36 for b in key).hex()
    outer = bytes(b ^ 0x5C for b in key).hex()
    return f"sha256(unhex('{outer}') || unhex(sha256(unhex('{inner}') || encode(cast({expr} as varchar)))))"


# -- redaction -----------------------------------------------------------------------------------------------------
MASKS = {"email": "[email]", "iban": "[iban]", "card": "[card]", "phone": "[phone]", "address": "[address]"}

_STREET_AFTER = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|square|sq|close|crescent"
)
_STREET_BEFORE = r"calle|avenida|av|rua|travessa|praça|praca|rue|via|viale|piazza|avenue|boulevard|plaza|paseo"
_NAME = r"[A-ZÀ-Ý][\w'’-]*\.?"  # a capitalised word of a street name
_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
_PATTERN = re.compile(
    "|".join(
        [
            # dates and times are kept as they are (tried before any number)
            r"(?P<date>\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?\b(?![-/.]?\d)"
            r"|\b\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})\b(?![-/.]?\d)|\b\d{1,2}:\d{2}(?::\d{2})?\b)",
            r"(?P<iban>\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b)",
            # 221b Baker Street; 12 Main St.
            rf"(?P<address>\b\d{{1,5}}[a-zA-Z]?,?\s+(?:{_NAME}\s+){{1,4}}(?i:{_STREET_AFTER})\b\.?"
            # Rua das Flores, 100; Calle Mayor 3
            rf"|\b(?i:{_STREET_BEFORE})\s+(?:(?:d[aeo]s?|del?|la|los|las|du|des|di|della)\s+)?(?:{_NAME}\s*){{1,4}},?"
            r"\s+\d{1,5}[a-zA-Z]?\b"
            # Hauptstraße 5, Lindenweg 12a
            r"|\b[A-ZÄÖÜ][\wäöüß]*(?:straße|strasse|str\.|weg|platz|gasse|allee)\s+\d{1,5}[a-zA-Z]?\b)",
            # a run of digits and separators: a card number, a phone number or something else (kept)
            r"(?P<number>(?<![\w#@/.,$€£+-])(?:\+|\b00)?\(?\d[\d \t().\-/]*\d\)?)",
        ]
    )
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _number_kind(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    if re.fullmatch(r"\d+\.\d+", text):  # a decimal number
        return None
    if 13 <= len(digits) <= 19 and not text.startswith("+") and _luhn(digits):
        return "card"
    separated = text.startswith(("+", "00", "(", "0")) or bool(re.search(r"\d[ \t().\-/]+\d", text))
    if 8 <= len(digits) <= 15 and separated:
        return "phone"
    return None


def _replace(match: re.Match) -> str:
    kind = match.lastgroup
    text = match.group()
    if kind == "date":
        return text
    if kind == "iban":
        from empathy.predict.feature_screening import _is_iban  # the same mod-97 check as the column screening

        return MASKS["iban"] if _is_iban(text) else text
    if kind == "number":
        found = _number_kind(text.strip())
        return text if found is None else MASKS[found]
    return MASKS[kind]


# RE2 (DuckDB) patterns of a cheap test whose matches are a superset of what `redact` masks: a cell not matching
# it (once dates and times are blanked) is published as it is, without calling Python.
_GUARD_BLANK = (
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:$|[^\d\-/.])|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}(?:$|[^\d\-/.])|\d{1,2}:\d{2}"
)
_GUARD = "|".join(
    [
        "@",
        r"(?:\d[ \t().\-/]{0,3}){8,}",  # 8+ digits: phone, card, IBAN
        r"[A-Z]{2}\d{2}[A-Z0-9 ]{11,}",  # IBAN with letters
        r"\d{1,5}[a-zA-Z]?,?\s+[A-ZÀ-Ý]",  # 221b Baker ...
        rf"(?i)\b(?:{_STREET_BEFORE})\s",  # Rua ...
        r"(?i)(?:straße|strasse|str\.|weg|platz|gasse|allee)\s+\d",  # Hauptstraße 5
    ]
)


def redaction_guard_sql(expr: str) -> str:
    """A DuckDB condition true for every text that `redact` could change (and for a few it leaves alone)."""
    blanked = f"regexp_replace({expr}, '{_GUARD_BLANK}', ' ', 'g')"
    return f"regexp_matches({blanked}, '{_GUARD.replace(chr(39), chr(39) * 2)}')"


def redact(text: str | None) -> str | None:
    """`text` with e-mails, IBANs, card and phone numbers and street addresses replaced by [email], [iban], ...

    Dates, times, amounts, order numbers (attached to letters or '#') and short numbers are kept.
    """
    if text is None:
        return text
    if "@" in text:
        text = _EMAIL.sub(MASKS["email"], text)
    if not any(ch.isdigit() for ch in text):
        return text
    return _PATTERN.sub(_replace, text)
