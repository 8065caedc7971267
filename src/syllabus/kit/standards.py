"""Codes from outside standards that several layers speak: a course's language (a BCP 47
primary language subtag) and a currency (ISO 4217). Checked against the registries that
``pycountry`` ships (ISO 639 and ISO 4217), not just their shape, so ``xx`` or ``ABC`` is
refused where it is written (course.json, a query, a setting) rather than stored.
"""

import re
from typing import Annotated, Final

import pycountry
from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

LANGUAGE_PATTERN: Final = r"^[a-z]{2,3}$"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
DEFAULT_CURRENCY: Final = "USD"


def is_language(tag: str) -> bool:
    """A BCP 47 primary language subtag in its canonical form: lower case, the ISO 639-1
    code when the language has one (``en``, never ``eng``), else its ISO 639-2/3 code
    (``haw``)."""
    if not re.fullmatch(LANGUAGE_PATTERN, tag):
        return False
    if len(tag) == 2:
        return pycountry.languages.get(alpha_2=tag) is not None
    language = pycountry.languages.get(alpha_3=tag)
    return language is not None and not hasattr(language, "alpha_2")


def is_currency(code: str) -> bool:
    """An ISO 4217 code as the standard writes it, in upper case."""
    return bool(re.fullmatch(CURRENCY_PATTERN, code)) and (
        pycountry.currencies.get(alpha_3=code) is not None
    )


def _language(tag: str) -> str:
    if not is_language(tag):
        raise PydanticCustomError(
            "language_tag",
            "'{tag}' is not a BCP 47 primary language tag (a lower-case ISO 639 code: 'en', "
            "'ru', 'de')",
            {"tag": tag},
        )
    return tag


def _currency(code: str) -> str:
    if not is_currency(code):
        raise PydanticCustomError(
            "currency_code",
            "'{code}' is not an ISO 4217 currency code (upper case: 'USD', 'EUR', 'RUB')",
            {"code": code},
        )
    return code


LanguageTag = Annotated[str, StringConstraints(max_length=8), AfterValidator(_language)]
"""``en``, ``ru``, ``haw``: lower case, no region or script (those belong to a locale)."""
CurrencyCode = Annotated[str, StringConstraints(max_length=8), AfterValidator(_currency)]
"""``USD``, ``EUR``, ``RUB``: upper case, as ISO 4217 writes it."""
