"""The intake form: one set of rules for the web form and the JSON API."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    Field,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from dsar.i18n import LANGUAGES
from dsar.policy.corrections import validate_corrections
from dsar.policy.grounds import RESTRICTION_GROUNDS
from dsar.policy.lifecycle import RequestType
from dsar.policy.objections import OBJECTION_TARGETS, ObjectionTo

TYPE_LABELS = {
    RequestType.ACCESS: _l("See the data you hold about me (access)"),
    RequestType.PORTABILITY: _l("Give me my data in a machine-readable file (portability)"),
    RequestType.RECTIFICATION: _l("Correct my data (rectification)"),
    RequestType.ERASURE: _l("Delete my data (erasure)"),
    RequestType.RESTRICTION: _l("Restrict the use of my data (restriction)"),
    RequestType.OBJECTION: _l("Stop offers, or object to how my data is used (objection)"),
}



def _strip(value: object) -> object:
    """Drops the blanks people type or paste around a value."""
    return value.strip() if isinstance(value, str) else value


# Control characters other than tab and line breaks are never part of what a person means,
# and PostgreSQL refuses NUL outright; they are an input error, not a server error.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def no_control_characters(_form: object, field: Field) -> None:
    """Refuses a value with invisible control characters in it."""
    if isinstance(field.data, str) and _CONTROL.search(field.data):
        raise ValidationError(_l("Remove the invisible control characters from this field."))


MAX_EMAIL = 254
MAX_NAME = 200
MAX_CUSTOMER_NUMBER = 64
MAX_DETAILS = 4000


class CorrectionsForm(Form):
    """The new values of a correction; only those filled in are corrected."""

    name = StringField(_l("Name"), filters=[_strip])
    phone = StringField(_l("Phone number"), filters=[_strip])
    street = StringField(_l("Street and house number"), filters=[_strip])
    postal_code = StringField(_l("Postal code"), filters=[_strip])
    city = StringField(_l("City"), filters=[_strip])
    country = StringField(_l("Country (two letters, e.g. NL)"), filters=[_strip])
    billing_street = StringField(_l("Billing street and house number"),
                                 filters=[_strip])
    billing_postal_code = StringField(_l("Billing postal code"), filters=[_strip])
    billing_city = StringField(_l("Billing city"), filters=[_strip])
    billing_country = StringField(_l("Billing country (two letters)"), filters=[_strip])


class RequestForm(FlaskForm):
    """A data subject request as a person or an API client submits it."""

    email = StringField(
        _l("Your e-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=MAX_EMAIL),
                    no_control_characters,
                    Email(_l("Enter an e-mail address such as name@example.nl."))],
        description=_l("We send a link to this address to confirm it is yours."),
        filters=[_strip],
    )
    type = SelectField(
        _l("What would you like us to do?"),
        choices=[
            SelectChoice(t.value, TYPE_LABELS[t]) for t in RequestType
        ],
        validators=[DataRequired(_l("Choose what you would like us to do."))],
    )
    name = StringField(
        _l("Your name (optional)"),
        validators=[Optional(), Length(max=MAX_NAME), no_control_characters],
        filters=[_strip],
    )
    customer_number = StringField(
        _l("Customer number (optional)"),
        validators=[Optional(), Length(max=MAX_CUSTOMER_NUMBER), no_control_characters],
        filters=[_strip],
    )
    details = TextAreaField(
        _l("Anything we should know (optional)"),
        validators=[Optional(), Length(max=MAX_DETAILS), no_control_characters],
    )
    corrections = FormField(CorrectionsForm, label=_l("For a correction: the right values"))
    ground = SelectField(
        _l("For a restriction: why"),
        choices=[SelectChoice("", _l("Choose a reason"))]
        + [SelectChoice(key, _l(text)) for key, text in RESTRICTION_GROUNDS.items()],
        validators=[Optional()],
    )
    objection_to = RadioField(
        _l("For an objection: what you object to"),
        choices=[SelectChoice(str(key), _l(text)) for key, text in OBJECTION_TARGETS.items()],
        default=str(ObjectionTo.DIRECT_MARKETING),
        validators=[Optional()],
    )
    situation = TextAreaField(
        _l("Your particular situation"),
        description=_l("For an objection to our use of your data on our legitimate interests: "
                       "tell us what in your situation makes it wrong for you. Our privacy "
                       "officer weighs it against our reasons (Art. 21(1))."),
        validators=[Optional(), Length(max=MAX_DETAILS), no_control_characters],
    )

    def type_values(self) -> dict[str, Any] | None:
        """The corrections, ground or objection the chosen type needs; None after marking
        errors."""
        filled = {k: v for k, v in self.corrections.data.items() if v}
        objection = self.type.data == RequestType.OBJECTION
        target = self.objection_to.data if objection else None
        # The particular situation is what an Art. 21(1) objection rests on: its details,
        # with anything else the person wrote after it.
        situation = (self.situation.data or "").strip()
        details = "\n\n".join(text for text in (situation, (self.details.data or "").strip())
                              if text) if target == ObjectionTo.LEGITIMATE_INTERESTS else None
        payload = {"type": self.type.data, "corrections": filled or None,
                   "ground": self.ground.data or None, "objection_to": target,
                   "details": situation or None}
        values, errors = validate_type_fields(payload)
        for key, message in errors.items():
            if key == "corrections":
                self.corrections_problem = message
                continue
            if key == "details":
                self.situation.errors = [*self.situation.errors, _l(
                    "Describe your particular situation: this objection rests on it.")]
                continue
            field = (self.ground if key == "ground" else self.objection_to
                     if key == "objection_to" else self.corrections[key.split(".", 1)[1]])
            field.errors = [*field.errors, message]
        if errors:
            return None
        return {**values, "details": details} if details else values

    #: A problem with the corrections as a whole (none given, or given for another type).
    corrections_problem: str | None = None


class ConfirmForm(FlaskForm):
    """The confirm button behind a verification link; its CSRF token is the only field."""


REQUEST_FIELDS = ("email", "type", "name", "customer_number", "details")
#: Fields only some request types take, checked on their own.
TYPE_FIELDS = {"corrections": RequestType.RECTIFICATION, "ground": RequestType.RESTRICTION,
               "objection_to": RequestType.OBJECTION}


def validate_api_payload(payload: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Checks a JSON body against the form's rules.

    Returns:
        The cleaned values and the errors by field (empty when the body is valid).
    """
    if not isinstance(payload, dict):
        return {}, {"_body": "The body must be a JSON object."}
    broken = {key: "Must be text: it holds a broken character (a lone surrogate)."
              for key, value in payload.items() if _has_surrogate(value)}
    if broken:
        return {}, broken
    type_values, errors = validate_type_fields(payload)
    language = payload.get("language")
    if language is not None and (not isinstance(language, str) or language not in LANGUAGES):
        errors["language"] = "One of: " + ", ".join(LANGUAGES) + "."
    type_values["language"] = language
    payload = {k: v for k, v in payload.items() if k not in TYPE_FIELDS and k != "language"}
    for key in payload:
        if key not in REQUEST_FIELDS:
            errors[key] = "Unknown field."
    for key in REQUEST_FIELDS:
        value = payload.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = "Must be a string."
    kind = payload.get("type")
    if isinstance(kind, str) and kind not in {t.value for t in RequestType}:
        errors["type"] = "Unknown request type; one of: " + ", ".join(t.value for t in RequestType)
    if errors:
        return {}, errors
    formdata = MultiDict({k: v for k, v in payload.items() if v is not None})
    form = RequestForm(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        return {}, {name: str(messages[0]) for name, messages in form.errors.items()}
    return {**{key: form[key].data for key in REQUEST_FIELDS}, **type_values}, {}


def _has_surrogate(value: Any) -> bool:
    """Whether a JSON value holds half of a UTF-16 pair: no text can be stored or mailed so.

    Walked with a stack of its own: JSON the parser accepted may still be nested deeper
    than Python's recursion allows after the frames of a request.
    """
    waiting = [value]
    while waiting:
        item = waiting.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            waiting.extend(item.keys())
            waiting.extend(item.values())
        elif isinstance(item, list):
            waiting.extend(item)
    return False


def validate_type_fields(payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Checks corrections (rectification), ground (restriction) and what an objection is to
    (with the situation an Art. 21(1) objection needs in details) against the type."""
    kind = payload.get("type")
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, needed_by in TYPE_FIELDS.items():
        if kind != needed_by and payload.get(name) is not None:
            errors[name] = f"Only a request of type {needed_by} takes {name}."
    if kind == RequestType.RECTIFICATION:
        values["corrections"], found = validate_corrections(payload.get("corrections"))
        errors.update(found)
    if kind == RequestType.RESTRICTION:
        ground = payload.get("ground")
        if not isinstance(ground, str) or ground not in RESTRICTION_GROUNDS:
            errors["ground"] = "Say why, one of: " + ", ".join(RESTRICTION_GROUNDS) + "."
        values["ground"] = ground
    if kind == RequestType.OBJECTION:
        target = payload.get("objection_to") or ObjectionTo.DIRECT_MARKETING
        details = payload.get("details")
        if not isinstance(target, str) or target not in set(ObjectionTo):
            errors["objection_to"] = "What the objection is to, one of: " + ", ".join(
                ObjectionTo) + "."
        elif target == ObjectionTo.LEGITIMATE_INTERESTS and not (
                isinstance(details, str) and details.strip()):
            errors["details"] = ("Describe the person's particular situation: an objection to "
                                 "processing on legitimate interests rests on it (Art. 21(1)).")
        values["objection_to"] = str(target)
    return values, errors
