"""Liveness and readiness probes for load balancers and the upgrade script."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """The process answers; says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Ready when the database answers and every migration on disk is applied."""
    try:
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
    return JsonResponse({"status": "ok"})
