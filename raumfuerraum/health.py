"""Liveness and readiness probes for load balancers and the upgrade script."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """The process answers; says nothing about its dependencies."""
    _migrations_seen_applied = True
    return JsonResponse({"status": "ok"})


# Once this process has seen every one of its migrations applied, that stays true (a
# release's migrations are only ever added); later probes just check the database.
_migrations_seen_applied = False


@never_cache
def readyz(request):
    """Ready when the database answers and every migration on disk is applied."""
    global _migrations_seen_applied
    try:
        if _migrations_seen_applied:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return JsonResponse({"status": "ok"})
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "detail": f"database: {exc.__class__.__name__}"}, status=503
        )
    if pending:
        return JsonResponse(
            {"status": "unavailable", "detail": f"{len(pending)} migrations not applied"}, status=503
        )
    _migrations_seen_applied = True
    return JsonResponse({"status": "ok"})
