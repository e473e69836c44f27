"""Who sees what: the visibility matrix, written down once.

``docs/privacy.md`` shows these tables (``python -m privacy.visibility`` prints them) and
``tests/privacy/test_visibility_matrix.py`` checks every cell against the real pages, the
API, the door display, the calendar feeds, the reports and the reception page, and that
the document still says what this module says.

The scene: a private booking (with attendees, a registered visitor and an order on a cost
centre) and a normal booking, both organized by the same person in one room with a door
display that shows titles.
"""

from __future__ import annotations

SHOWN, HIDDEN, REFUSED = "shown", "hidden", "refused"

# Who looks, in the tables' column order.
ROLES = (
    "organizer",
    "attendee",
    "colleague",
    "room_manager",
    "reception",
    "provider",
    "facility_admin",
    "display",
)
ROLE_LABELS = {
    "de": (
        "Organisator",
        "Teilnehmende",
        "Kollege",
        "Raumverwaltung",
        "Empfang",
        "Dienstleister (Küche)",
        "Facility-Admin",
        "Türschild (anonym)",
    ),
    "en": (
        "organizer",
        "attendee",
        "colleague",
        "room manager",
        "reception",
        "service provider (kitchen)",
        "facility admin",
        "door display (anonymous)",
    ),
}

DATA = ("private_title", "title", "attendees", "visitor_names", "cost_centre")
DATA_LABELS = {
    "de": (
        "Titel einer privaten Buchung",
        "Titel einer normalen Buchung",
        "Teilnehmende",
        "Besuchernamen",
        "Kostenstelle",
    ),
    "en": (
        "title of a private booking",
        "title of a normal booking",
        "attendees",
        "visitor names",
        "cost centre",
    ),
}

INTERFACES = (
    "day_plan",
    "room_week",
    "my_bookings",
    "api",
    "api_visitors",
    "display",
    "feed",
    "reports",
    "reception",
    "provider_day",
    "charges",
)
INTERFACE_LABELS = {
    "de": {
        "day_plan": "Tagesplan `/plan/`",
        "room_week": "Raumwoche `/rooms/<id>/`",
        "my_bookings": "Meine Buchungen `/my/`",
        "api": (
            "API `/api/v1/bookings` (Liste, einzeln, `…/orders`), `/api/v1/rooms/<id>/bookings`,"
            " `/api/v1/availability`"
        ),
        "api_visitors": "API `/api/v1/visits` (Liste, einzeln) und `/api/v1/reception/<Standort>/visitors`",
        "display": "Türschild (Seite `/d/<Schlüssel>` und `status.json`)",
        "feed": "Kalender-Abo (eigenes und das des Raums)",
        "reports": "Berichte `/reports/` und ihre CSV-Dateien",
        "reception": "Empfang `/reception/<Standort>/`",
        "provider_day": "Tagesliste des Dienstleisters `/services/providers/<id>/` und ihr PDF",
        "charges": "Verrechnung je Kostenstelle `/services/charges/` (SAP-Export-Recht)",
    },
    "en": {
        "day_plan": "day plan `/plan/`",
        "room_week": "room week `/rooms/<id>/`",
        "my_bookings": "My bookings `/my/`",
        "api": (
            "API `/api/v1/bookings` (list, one, `…/orders`), `/api/v1/rooms/<id>/bookings`,"
            " `/api/v1/availability`"
        ),
        "api_visitors": "API `/api/v1/visits` (list, one) and `/api/v1/reception/<site>/visitors`",
        "display": "door display (page `/d/<key>` and `status.json`)",
        "feed": "calendar feed (own and the room's)",
        "reports": "reports `/reports/` and their CSV files",
        "reception": "reception `/reception/<site>/`",
        "provider_day": "provider's day list `/services/providers/<id>/` and its PDF",
        "charges": "charges per cost centre `/services/charges/` (SAP export permission)",
    },
}

CELL_LABELS = {
    "de": {SHOWN: "sieht", HIDDEN: "–", REFUSED: "kein Zugang"},
    "en": {SHOWN: "sees", HIDDEN: "–", REFUSED: "no access"},
}

S, H, R = SHOWN, HIDDEN, REFUSED

# MATRIX[interface][datum] = one cell per role, in ROLES order.
#              organizer attendee colleague manager reception provider admin display
MATRIX: dict[str, dict[str, tuple[str, ...]]] = {
    "day_plan": {
        "private_title": (S, H, H, H, H, H, S, R),
        "title": (S, S, S, S, S, S, S, R),
        "attendees": (H, H, H, H, H, H, H, R),
        "visitor_names": (H, H, H, H, H, H, H, R),
        "cost_centre": (H, H, H, H, H, H, H, R),
    },
    "room_week": {
        "private_title": (S, H, H, H, H, H, S, R),
        "title": (S, S, S, S, S, S, S, R),
        "attendees": (H, H, H, H, H, H, H, R),
        "visitor_names": (H, H, H, H, H, H, H, R),
        "cost_centre": (H, H, H, H, H, H, H, R),
    },
    "my_bookings": {
        "private_title": (S, S, H, H, H, H, H, R),
        "title": (S, H, H, H, H, H, H, R),
        "attendees": (H, H, H, H, H, H, H, R),
        "visitor_names": (H, H, H, H, H, H, H, R),
        "cost_centre": (H, H, H, H, H, H, H, R),
    },
    "api": {
        "private_title": (S, H, H, H, H, H, S, R),
        "title": (S, S, S, S, S, S, S, R),
        "attendees": (H, H, H, H, H, H, H, R),
        "visitor_names": (H, H, H, H, H, H, H, R),
        "cost_centre": (S, H, H, S, H, H, S, R),
    },
    "api_visitors": {
        "private_title": (H, H, H, H, H, H, H, R),
        "title": (H, H, H, H, H, H, H, R),
        "attendees": (H, H, H, H, H, H, H, R),
        "visitor_names": (S, H, H, H, S, H, S, R),
        "cost_centre": (H, H, H, H, H, H, H, R),
    },
    "display": {
        "private_title": (H, H, H, H, H, H, H, H),
        "title": (S, S, S, S, S, S, S, S),
        "attendees": (H, H, H, H, H, H, H, H),
        "visitor_names": (H, H, H, H, H, H, H, H),
        "cost_centre": (H, H, H, H, H, H, H, H),
    },
    "feed": {
        "private_title": (S, H, H, H, H, H, S, R),
        "title": (S, S, S, S, S, S, S, R),
        "attendees": (H, H, H, H, H, H, H, R),
        "visitor_names": (H, H, H, H, H, H, H, R),
        "cost_centre": (H, H, H, H, H, H, H, R),
    },
    "reports": {
        "private_title": (R, R, R, H, R, R, H, R),
        "title": (R, R, R, H, R, R, H, R),
        "attendees": (R, R, R, H, R, R, H, R),
        "visitor_names": (R, R, R, H, R, R, H, R),
        "cost_centre": (R, R, R, H, R, R, H, R),
    },
    "reception": {
        "private_title": (R, R, R, R, H, R, H, R),
        "title": (R, R, R, R, H, R, H, R),
        "attendees": (R, R, R, R, H, R, H, R),
        "visitor_names": (R, R, R, R, S, R, S, R),
        "cost_centre": (R, R, R, R, H, R, H, R),
    },
    "provider_day": {
        "private_title": (R, R, R, R, R, H, R, R),
        "title": (R, R, R, R, R, H, R, R),
        "attendees": (R, R, R, R, R, H, R, R),
        "visitor_names": (R, R, R, R, R, H, R, R),
        "cost_centre": (R, R, R, R, R, H, R, R),
    },
    "charges": {
        "private_title": (R, R, R, R, R, R, H, R),
        "title": (R, R, R, R, R, R, H, R),
        "attendees": (R, R, R, R, R, R, H, R),
        "visitor_names": (R, R, R, R, R, R, H, R),
        "cost_centre": (R, R, R, R, R, R, H, R),
    },
}


def expected(interface: str, role: str) -> dict[str, str]:
    """What one viewer should see of each datum on one interface."""
    column = ROLES.index(role)
    return {datum: MATRIX[interface][datum][column] for datum in DATA}


def markdown_table(language: str) -> str:
    """The matrix as a Markdown table in German (``de``) or English (``en``)."""
    interface_head, datum_head = ("Schnittstelle", "Angabe") if language == "de" else ("Interface", "Datum")
    lines = [
        "| " + " | ".join([interface_head, datum_head, *ROLE_LABELS[language]]) + " |",
        "|" + "---|" * (2 + len(ROLES)),
    ]
    cells = CELL_LABELS[language]
    for interface in INTERFACES:
        for i, datum in enumerate(DATA):
            where = INTERFACE_LABELS[language][interface] if i == 0 else ""
            row = [where, DATA_LABELS[language][i], *(cells[c] for c in MATRIX[interface][datum])]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    for lang in ("de", "en"):
        print(markdown_table(lang), end="\n\n")
