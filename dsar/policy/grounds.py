"""The grounds on which a person may ask to restrict processing (Art. 18(1) GDPR)."""

from __future__ import annotations

from dsar.connector import translatable

#: The Art. 18(1) grounds a restriction may rest on, as the person reads them.
RESTRICTION_GROUNDS = {
    "accuracy_contested": translatable("You contest the accuracy of your data (Art. 18(1)(a))."),
    "unlawful_processing": translatable(
        "The processing is unlawful and you prefer restriction to erasure (Art. 18(1)(b))."),
    "legal_claims": translatable("You need the data for a legal claim (Art. 18(1)(c))."),
    "objection_pending": translatable(
        "You objected and the balance of interests is being checked (Art. 18(1)(d))."),
}
