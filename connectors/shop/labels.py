"""The shop's fields and codes as a person reads them, in the middle of a sentence.

One place for the words, since the shop's tables share their columns (every table has an
e-mail address, several a billing address); a category takes the labels of its own fields
(`labels_for`), and a different word where its field means something else (`body`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dsar.connector import translatable

FIELD_LABELS: Mapping[str, str] = {
    "customer_number": translatable("customer number"),
    "email": translatable("e-mail address"),
    "name": translatable("name"),
    "street": translatable("street and house number"),
    "postal_code": translatable("postal code"),
    "city": translatable("town"),
    "country": translatable("country"),
    "phone": translatable("phone number"),
    "address": translatable("address"),
    "billing_street": translatable("billing street and house number"),
    "billing_postal_code": translatable("billing postal code"),
    "billing_city": translatable("billing town"),
    "billing_country": translatable("billing country"),
    "billing_email": translatable("billing e-mail address"),
    "billing_name": translatable("billing name"),
    "ship_street": translatable("delivery street and house number"),
    "ship_postal_code": translatable("delivery postal code"),
    "ship_city": translatable("delivery town"),
    "ship_country": translatable("delivery country"),
    "payment_method": translatable("payment method"),
    "payment_details": translatable("payment details"),
    "payment_reference": translatable("payment reference"),
    "registration_ip": translatable("IP address at registration"),
    "last_login_ip": translatable("IP address at last login"),
    "ip_address": translatable("IP address"),
    "created_at": translatable("date created"),
    "closed_at": translatable("date closed"),
    "order_number": translatable("order number"),
    "total_cents": translatable("total amount"),
    "currency": translatable("currency"),
    "status": translatable("status"),
    "placed_at": translatable("date ordered"),
    "completed_at": translatable("date completed"),
    "lines": translatable("items ordered"),
    "sku": translatable("article number"),
    "description": translatable("description"),
    "quantity": translatable("quantity"),
    "unit_price_cents": translatable("unit price"),
    "carrier": translatable("carrier"),
    "tracking_number": translatable("tracking number"),
    "recipient_name": translatable("recipient's name"),
    "recipient_street": translatable("recipient's street and house number"),
    "recipient_postal_code": translatable("recipient's postal code"),
    "recipient_city": translatable("recipient's town"),
    "recipient_country": translatable("recipient's country"),
    "recipient_phone": translatable("recipient's phone number"),
    "handed_over_at": translatable("date handed to the carrier"),
    "plan": translatable("plan"),
    "started_at": translatable("start date"),
    "terminated_at": translatable("end date"),
    "subject": translatable("subject"),
    "body": translatable("message"),
    "received_at": translatable("date received"),
    "resolved_at": translatable("date resolved"),
    "channel": translatable("contact by"),
    "agent": translatable("customer service agent"),
    "consented_at": translatable("date of consent"),
    "source": translatable("where consent was given"),
    "withdrawn_at": translatable("date withdrawn"),
}

#: How the shop pays and is paid, as stored in `payment_method` of every table.
PAYMENT_METHODS: Mapping[str, str] = {
    "iDEAL": translatable("iDEAL"),
    "creditcard": translatable("credit card"),
    "PayPal": translatable("PayPal"),
    "SEPA direct debit": translatable("SEPA direct debit"),
}

ORDER_STATUSES: Mapping[str, str] = {
    "placed": translatable("placed"),
    "paid": translatable("paid"),
    "shipped": translatable("shipped"),
    "delivered": translatable("delivered"),
    "cancelled": translatable("cancelled"),
    "returned": translatable("returned"),
}

SUBSCRIPTION_STATUSES: Mapping[str, str] = {
    "active": translatable("active"),
    "cancelled": translatable("cancelled"),
}

CHANNELS: Mapping[str, str] = {
    "phone": translatable("phone"),
    "email": translatable("e-mail"),
}

CONSENT_SOURCES: Mapping[str, str] = {
    "checkout": translatable("when ordering"),
    "newsletter form": translatable("newsletter form"),
    "account settings": translatable("account settings"),
}


def labels_for(fields: Iterable[str], **other: str) -> dict[str, str]:
    """The labels of a category's fields, with `other` words for fields that mean
    something else in it."""
    return {name: other.get(name) or FIELD_LABELS[name] for name in fields}
