"""Admin: providers, their catalogue, cost centres and closed days; orders read-mostly; export batches
only for people with the "SAP export" permission, with their totals and the files to download again."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from .models import (
    ClosedDay,
    CostCentre,
    ExportBatch,
    Item,
    Order,
    Posting,
    Provider,
    ProviderSummary,
    RoomPrice,
    SiteAccounting,
    UserCostCentre,
)

SAP_EXPORT = "orders.sap_export"


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = [
        "name",
        "name_en",
        "unit",
        "price",
        "currency",
        "activity_type",
        "cutoff_days",
        "cutoff_time",
        "active",
    ]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "email", "cost_centre", "invoices_externally"]
    list_filter = ["site"]
    inlines = [ItemInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "unit", "price", "currency", "activity_type", "active"]
    list_filter = ["provider__site", "provider", "active"]
    search_fields = ["name", "name_en"]


@admin.register(CostCentre)
class CostCentreAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "valid_from", "valid_to"]
    search_fields = ["code", "name"]


@admin.register(UserCostCentre)
class UserCostCentreAdmin(admin.ModelAdmin):
    list_display = ["user", "cost_centre"]
    search_fields = ["user__username", "cost_centre__code"]
    autocomplete_fields = ["cost_centre"]


@admin.register(SiteAccounting)
class SiteAccountingAdmin(admin.ModelAdmin):
    list_display = ["site", "require_cost_centre"]


@admin.register(ProviderSummary)
class ProviderSummaryAdmin(admin.ModelAdmin):
    """Which daily summaries were written: read only, the beat job writes them."""

    list_display = ["provider", "day", "since", "until"]
    list_filter = ["provider"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoomPrice)
class RoomPriceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "per_hour",
        "per_half_day",
        "per_day",
        "currency",
        "activity_type",
        "cost_centre",
    ]
    autocomplete_fields = ["cost_centre"]


@admin.register(ClosedDay)
class ClosedDayAdmin(admin.ModelAdmin):
    list_display = ["day", "name", "site"]
    list_filter = ["site"]


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnly, admin.ModelAdmin):
    # Written by the services only (cut-off, locks, versions for the export).
    list_display = ["deliver_at", "item", "quantity", "amount", "cost_centre", "status", "booking"]
    list_filter = ["status", "item__provider"]
    date_hierarchy = "deliver_at"


class SapExportOnly(ReadOnly):
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.has_perm(SAP_EXPORT)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(ExportBatch)
class ExportBatchAdmin(SapExportOnly, admin.ModelAdmin):
    list_display = ["number", "created_at", "lines", "total", "downloads", "live", "live_error"]

    @admin.display(description=_("files"))
    def downloads(self, obj: ExportBatch):
        return format_html_join(
            " ",
            '<a href="{}">{}</a>',
            ((reverse("admin:orders_exportbatch_download", args=[obj.pk, name]), name) for name in obj.files),
        )

    def get_urls(self):
        download = self.admin_site.admin_view(self.download)
        return [
            path("<int:pk>/download/<str:name>", download, name="orders_exportbatch_download"),
            *super().get_urls(),
        ]

    def download(self, request, pk: int, name: str):
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = ExportBatch.objects.filter(pk=pk).first()
        # Only a file the batch lists, and only by its bare name: no path from the request is opened.
        if batch is None or name not in batch.files or Path(name).name != name:
            raise Http404
        file = Path(settings.RFR_SAP_EXPORT_DIR) / name
        if not file.is_file():
            raise Http404
        return FileResponse(file.open("rb"), as_attachment=True, filename=name)


@admin.register(Posting)
class PostingAdmin(SapExportOnly, admin.ModelAdmin):
    list_display = [
        "batch",
        "sender_cost_centre",
        "receiver_cost_centre",
        "activity_type",
        "quantity",
        "amount",
        "posting_date",
        "sap_document",
    ]
    list_filter = ["batch", "kind"]
