"""The answers every operation can give, added to the OpenAPI document from one table.

The handlers in __init__.py, the auth in auth.py and the middleware answer these for
every operation alike; declaring them on each route would repeat the table seventeen
times and forget it on the eighteenth.
"""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "required": ["detail"],
}
ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "properties": {"detail": {"type": "string"}, "field": {"type": ["string", "null"]}},
    "required": ["detail"],
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}}

# status: (description, applies to (every / with a body / writes / with a path id), schema, headers)
COMMON = {
    "401": ("No or invalid credentials (WWW-Authenticate: Bearer)", "every", ERROR, {}),
    "403": ("Not allowed, or a session request without a valid CSRF token", "writes", ERROR, {}),
    "404": ("No such object", "path", ERROR, {}),
    "400": ("The body is not valid JSON", "body", ERROR, {}),
    "413": ("The request body is larger than the server takes", "every", ERROR, {}),
    "415": ("The body is not sent as application/json", "body", ERROR, {}),
    "422": ("Invalid input, naming the field", "input", VALIDATION, {}),
    "429": ("Too many failed authentications from this address", "every", ERROR, RETRY_AFTER),
    "503": ("Database unreachable or read-only; nothing was written", "every", ERROR, RETRY_AFTER),
}
WRITES = {"post", "put", "patch", "delete"}
# Answered before the app sees the request: by HAProxy in JSON (a request line over 4,000
# bytes, deploy/haproxy), or by gunicorn in HTML where no proxy stands in front (4,094).
URI_TOO_LONG = {
    "description": "The request line (path and query) is longer than the server takes",
    "content": {"application/json": {"schema": ERROR}, "text/html": {"schema": {"type": "string"}}},
}


def _applies(scope: str, method: str, operation: dict) -> bool:
    params = operation.get("parameters", [])
    if scope == "every":
        return True
    if scope == "writes":
        return method in WRITES
    if scope == "path":
        return any(p.get("in") == "path" for p in params)
    if scope == "body":
        return "requestBody" in operation
    if scope == "input":
        return bool(params) or "requestBody" in operation
    raise ValueError(scope)


def complete(schema: dict) -> dict:
    """Add the common answers to every operation that does not declare them itself."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    for path in schema.get("paths", {}).values():
        for method, operation in path.items():
            responses = operation.setdefault("responses", {})
            for status, (description, scope, body, headers) in COMMON.items():
                if status in responses or not _applies(scope, method, operation):
                    continue
                answer = {"description": description, "content": {"application/json": {"schema": body}}}
                if headers:
                    answer["headers"] = headers
                responses[status] = answer
            responses.setdefault("414", URI_TOO_LONG)
            if "401" in responses:
                responses["401"]["headers"] = {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="api"'}
                }
    return schema
