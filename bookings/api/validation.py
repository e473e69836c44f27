"""Pydantic's validation errors, retold in the user's language, naming the field."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..spans import day_range_message


def unsafe_text() -> str:
    return _("The text contains a character that is not allowed (NUL or a lone surrogate).")


# The error types a client meets most; anything else gets the generic sentence.
MESSAGES = {
    "missing": lambda: _("This field is required."),
    "extra_forbidden": lambda: _("This field is unknown."),
    "timezone_aware": lambda: _(
        "The time needs a time zone offset (ISO 8601), e.g. 2026-05-04T09:00:00+02:00."
    ),
    "datetime_parsing": lambda: _("Not a valid ISO 8601 time, e.g. 2026-05-04T09:00:00+02:00."),
    "datetime_from_date_parsing": lambda: _("Not a valid ISO 8601 time, e.g. 2026-05-04T09:00:00+02:00."),
    "datetime_type": lambda: _("Not a valid ISO 8601 time, e.g. 2026-05-04T09:00:00+02:00."),
    "date_parsing": lambda: _("Not a valid date, e.g. 2026-05-04."),
    "date_from_datetime_parsing": lambda: _("Not a valid date, e.g. 2026-05-04."),
    "int_parsing": lambda: _("A whole number is required."),
    "int_type": lambda: _("A whole number is required."),
    "bool_parsing": lambda: _("true or false is required."),
    "bool_type": lambda: _("true or false is required."),
    "string_type": lambda: _("A text is required."),
    "string_too_short": lambda: _("This field must not be empty."),
    "string_too_long": lambda: _("This text is too long."),
    "greater_than_equal": lambda: _("The value is too small."),
    "less_than_equal": lambda: _("The value is too large."),
    "list_type": lambda: _("A list is required."),
    "too_long": lambda: _("This list is too long."),
    "model_attributes_type": lambda: _("A JSON object is required."),
    # Text PostgreSQL cannot store (schemas.Text's pattern, and the parser's net).
    "string_pattern_mismatch": lambda: unsafe_text(),
    "string_unicode": lambda: unsafe_text(),
    "string_unsafe": lambda: unsafe_text(),
    "repeated": lambda: _("Give this parameter only once."),
    "date_out_of_range": day_range_message,
    "datetime_too_late": lambda: _("The time lies too far in the future."),
    "offset_out_of_range": lambda: _("The time zone offset must lie between -14:00 and +14:00."),
    "dict_type": lambda: _("A JSON object is required."),
}

# ninja puts the parameter's origin first (body, query, header, path) and, for a
# body, the name of the view's argument second; the client knows neither.
ORIGINS = {"body", "query", "header", "path", "cookie", "form", "file"}


def field_name(loc) -> str:
    # A list's index is dropped: "attendees", as the services name the field.
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if parts and parts[0] in ORIGINS:
        origin = parts.pop(0)
        if origin == "body" and parts:
            parts.pop(0)
    return ".".join(parts) or "body"


def describe_validation_errors(errors: list[dict]) -> tuple[str, list[dict]]:
    """A one-line detail naming the fields, and one entry per problem."""
    described = []
    for err in errors:
        message = MESSAGES.get(err.get("type", ""), lambda: _("This value is not valid."))()
        described.append(
            {"field": field_name(err.get("loc", ())), "message": message, "type": err.get("type", "")}
        )
    fields = ", ".join(dict.fromkeys(d["field"] for d in described))
    detail = _("Invalid input in: %(fields)s.") % {"fields": fields}
    if len(described) == 1:
        detail = f"{described[0]['field']}: {described[0]['message']}"
    elif len({d["message"] for d in described}) == 1:
        # Several fields, one reason (start and end both too late): the reason says more.
        detail = described[0]["message"]
    return detail, described
