"""The API's parser: JSON bodies only, and query strings refusing text PostgreSQL cannot store.

The typed parameters (schemas.py) refuse NUL and lone surrogates field by field and say
so in the OpenAPI document; this is the net under them, so no string a client sends
reaches the database unchecked, whatever type a new parameter is given.
"""

from __future__ import annotations

from ninja.errors import ValidationError
from ninja.parser import Parser

from ..spans import storable


def _refusal(origin: str, name: str, kind: str = "string_unsafe") -> ValidationError:
    return ValidationError([{"loc": (origin, name), "type": kind, "msg": kind}])


class NotJson(Exception):
    """A body sent with a Content-Type other than JSON (answered 415)."""


def is_json(content_type: str) -> bool:
    kind = content_type.strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class PlainTextParser(Parser):
    def parse_body(self, request):
        # Only operations that take a body read it: a POST without one (approve) may
        # come with any Content-Type.
        if not is_json(request.content_type or ""):
            raise NotJson
        return super().parse_body(request)

    def parse_querydict(self, data, list_fields, request):
        for key, values in data.lists():
            if not storable(key):
                raise _refusal("query", "query")
            # ?offset=false&offset=0: Django would read the last and ignore the first,
            # so a request the document calls invalid would be answered as if valid.
            if len(values) > 1 and key not in list_fields:
                raise _refusal("query", key, "repeated")
            for value in values:
                if not storable(value):
                    raise _refusal("query", key)
        return super().parse_querydict(data, list_fields, request)
