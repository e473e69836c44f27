"""Services ordered with a booking: providers, their catalogue, cost centres, order lines, postings."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking, Site


class CostCentre(models.Model):
    """A SAP cost centre (Kostenstelle) from the master list, valid for a period."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("cost centre")
        verbose_name_plural = _("cost centres")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    def valid_on(self, day) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class UserCostCentre(models.Model):
    """A user's default cost centre, charged when an order names none."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="default_cost_centre", verbose_name=_("user")
    )
    cost_centre = models.ForeignKey(CostCentre, models.PROTECT, verbose_name=_("cost centre"))

    class Meta:
        verbose_name = _("default cost centre")
        verbose_name_plural = _("default cost centres")

    def __str__(self) -> str:
        return str(self.cost_centre)


class BookingCostCentre(models.Model):
    """The cost centre a booking names: charged for its room and the default of its service lines.

    A booking without one is charged to its organizer's default cost centre. Kept here, not on
    the booking, because bookings know nothing of cost allocation (arrows point one way).
    """

    booking = models.OneToOneField(
        Booking, models.PROTECT, related_name="cost_allocation", verbose_name=_("booking")
    )
    cost_centre = models.ForeignKey(
        CostCentre, models.PROTECT, related_name="+", verbose_name=_("cost centre")
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("set by")
    )
    set_at = models.DateTimeField(_("set at"))

    class Meta:
        verbose_name = _("cost centre of a booking")
        verbose_name_plural = _("cost centres of bookings")

    def __str__(self) -> str:
        return str(self.cost_centre)


class ClosedDay(models.Model):
    """A day a site is closed (public holiday, company holiday): no working day for cut-offs."""

    site = models.ForeignKey(Site, models.CASCADE, related_name="closed_days", verbose_name=_("site"))
    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [models.UniqueConstraint(fields=["site", "day"], name="closed_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.name}".strip()


class SiteAccounting(models.Model):
    """A site's cost allocation rules, set by its admins; a site without a row requires nothing."""

    site = models.OneToOneField(Site, models.CASCADE, related_name="accounting", verbose_name=_("site"))
    # Every booking with services or with a room price must name a valid cost centre.
    require_cost_centre = models.BooleanField(
        _("require a cost centre for bookings with services or a price"), default=False
    )

    class Meta:
        verbose_name = _("cost allocation of a site")
        verbose_name_plural = _("cost allocation of sites")

    def __str__(self) -> str:
        return str(self.site)


class Provider(models.Model):
    """Who delivers services at a site (the kitchen, facility services, IT)."""

    site = models.ForeignKey(Site, models.PROTECT, related_name="providers", verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("mail address"), blank=True)
    # The people who work its orders: members of this group see its day list.
    group = models.ForeignKey(
        "auth.Group", models.SET_NULL, null=True, blank=True, verbose_name=_("worker group")
    )
    cost_centre = models.ForeignKey(
        CostCentre, models.PROTECT, related_name="providers", verbose_name=_("sender cost centre")
    )
    # An external supplier invoices: its charges go to the FI export, not to CO.
    invoices_externally = models.BooleanField(_("invoices externally (FI)"), default=False)

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["site", "name"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """One service in a provider's catalogue."""

    class Unit(models.TextChoices):
        PERSON = "person", _("per person")
        PIECE = "piece", _("per piece")
        FLAT = "flat", _("flat rate")

    provider = models.ForeignKey(Provider, models.PROTECT, related_name="items", verbose_name=_("provider"))
    name = models.CharField(_("name (German)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    activity_type = models.CharField(_("SAP activity type"), max_length=6, blank=True)
    cost_element = models.CharField(_("SAP cost element"), max_length=10, blank=True)
    min_quantity = models.PositiveIntegerField(_("minimum quantity"), default=1)
    max_quantity = models.PositiveIntegerField(_("maximum quantity"), default=100)
    # "By 14:00 the working day before": cutoff_days working days before delivery, at cutoff_time.
    cutoff_days = models.PositiveSmallIntegerField(_("cut-off: working days before"), default=1)
    cutoff_time = models.TimeField(_("cut-off: time of day"), default=time(14))
    # ISO weekdays (1 = Monday) it is delivered on, as digits: "12345".
    delivery_weekdays = models.CharField(_("delivery weekdays"), max_length=7, default="12345")
    delivery_from = models.TimeField(_("delivered from"), default=time(7))
    delivery_until = models.TimeField(_("delivered until"), default=time(18))
    needs_note = models.BooleanField(_("needs a note (diet, allergens)"), default=False)
    # What is still charged of a line cancelled or reduced after its cut-off, in percent.
    late_charge_percent = models.PositiveSmallIntegerField(
        _("charged after cut-off (%)"), default=100, validators=[MaxValueValidator(100)]
    )
    active = models.BooleanField(_("orderable"), default=True)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        ordering = ["provider", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="item_price_not_negative"),
            models.CheckConstraint(
                condition=Q(min_quantity__lte=models.F("max_quantity")), name="item_min_le_max"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name()

    def display_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name


class Order(models.Model):
    """A line ordered with a booking; cancelled, never deleted."""

    class Status(models.TextChoices):
        ORDERED = "ordered", _("ordered")
        CONFIRMED = "confirmed", _("confirmed")
        DELIVERED = "delivered", _("delivered")
        CANCELLED = "cancelled", _("cancelled")

    ACTIVE = (Status.ORDERED, Status.CONFIRMED, Status.DELIVERED)

    booking = models.ForeignKey(Booking, models.PROTECT, related_name="orders", verbose_name=_("booking"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="orders", verbose_name=_("item"))
    quantity = models.PositiveIntegerField(_("quantity"))
    # The price when ordered: a later catalogue change does not reprice the line.
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    deliver_at = models.DateTimeField(_("delivery time"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    cost_centre = models.ForeignKey(CostCentre, models.PROTECT, verbose_name=_("receiver cost centre"))
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("ordered by")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ORDERED)
    # What stays chargeable once cancelled: 0 before the cut-off, the item's late share after it.
    charged_percent = models.PositiveSmallIntegerField(_("charged (%)"), default=100)
    # Reduced after the cut-off: the late share of what was taken off stays charged, in units.
    late_quantity = models.DecimalField(
        _("still charged of reductions"), max_digits=10, decimal_places=2, default=Decimal("0")
    )
    created_at = models.DateTimeField(_("created at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Set by every change the booker or the clock makes (ordered, changed, moved, cancelled):
    # the provider's daily summary lists the lines changed since the last one.
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    # Rises with every change; the export compares it with the version it last posted.
    version = models.PositiveIntegerField(_("version"), default=1)
    posted_version = models.PositiveIntegerField(_("posted version"), null=True, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        indexes = [models.Index(fields=["deliver_at"], name="order_deliver_at")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(charged_percent__lte=100), name="order_charged_percent_le_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item}"


class ProviderSummary(models.Model):
    """One daily summary mail of a provider: written once per provider and local day (the outbox sends it)."""

    provider = models.ForeignKey(
        Provider, models.CASCADE, related_name="summaries", verbose_name=_("provider")
    )
    day = models.DateField(_("day"))
    # The lines changed in (since, until] are in it.
    since = models.DateTimeField(_("changes since"))
    until = models.DateTimeField(_("changes until"))

    class Meta:
        verbose_name = _("daily summary")
        verbose_name_plural = _("daily summaries")
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="provider_summary_once_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}"


class DayListLook(models.Model):
    """When a provider's worker last opened its day list: lines changed after it are marked."""

    provider = models.ForeignKey(Provider, models.CASCADE, related_name="looks", verbose_name=_("provider"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="+", verbose_name=_("user")
    )
    seen_at = models.DateTimeField(_("last look"))

    class Meta:
        verbose_name = _("last look at the day list")
        verbose_name_plural = _("last looks at the day list")
        constraints = [
            models.UniqueConstraint(fields=["provider", "user"], name="day_list_look_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.user_id} {self.seen_at:%Y-%m-%d %H:%M}"


class RoomPrice(models.Model):
    """Internal room prices on a site, building or room; an empty field inherits (orders/rooms.py)."""

    site = models.ForeignKey(
        Site, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("site")
    )
    building = models.ForeignKey(
        "bookings.Building",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("building"),
    )
    room = models.ForeignKey(
        "bookings.Room", models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("room")
    )
    per_hour = models.DecimalField(
        _("price per hour"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    per_half_day = models.DecimalField(
        _("price per half day"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    per_day = models.DecimalField(_("price per day"), max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    activity_type = models.CharField(_("SAP activity type"), max_length=6, blank=True)
    cost_centre = models.ForeignKey(
        CostCentre, models.PROTECT, null=True, blank=True, verbose_name=_("sender cost centre")
    )

    class Meta:
        verbose_name = _("room price")
        verbose_name_plural = _("room prices")
        constraints = [
            models.CheckConstraint(
                condition=Q(site__isnull=False, building__isnull=True, room__isnull=True)
                | Q(site__isnull=True, building__isnull=False, room__isnull=True)
                | Q(site__isnull=True, building__isnull=True, room__isnull=False),
                name="room_price_one_place",
            ),
        ]

    def __str__(self) -> str:
        return str(self.room or self.building or self.site)


class ExportBatch(models.Model):
    """One numbered SAP export: the files written and their totals."""

    number = models.PositiveIntegerField(_("number"), unique=True)
    created_at = models.DateTimeField(_("created at"))
    files = models.JSONField(_("files"), default=list)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))

    class Live(models.TextChoices):
        """Where RFR_SAP_TARGET is "odata" or "rfc", the CO lines go to SAP live instead of into a file."""

        FILE = "", _("file only")
        PENDING = "pending", _("to be posted to SAP")
        POSTED = "posted", _("posted to SAP")
        REFUSED = "refused", _("refused by SAP")

    live = models.CharField(
        _("live posting"), max_length=10, choices=Live.choices, default=Live.FILE, blank=True
    )
    live_error = models.CharField(_("SAP's answer"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("SAP export batch")
        verbose_name_plural = _("SAP export batches")
        ordering = ["-number"]
        permissions = [("sap_export", _("SAP export"))]

    def __str__(self) -> str:
        return f"#{self.number}"


class Posting(models.Model):
    """A charge as exported: one line of a batch. A reversal is a line with negated quantity."""

    # A service line's charge names its order; a room's charge names the booking.
    order = models.ForeignKey(
        Order, models.PROTECT, null=True, blank=True, related_name="postings", verbose_name=_("order line")
    )
    booking = models.ForeignKey(
        Booking,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="room_postings",
        verbose_name=_("booking"),
    )
    batch = models.ForeignKey(ExportBatch, models.PROTECT, related_name="postings", verbose_name=_("batch"))
    kind = models.CharField(_("kind"), max_length=3, choices=[("CO", "CO"), ("FI", "FI")], default="CO")
    sender_cost_centre = models.CharField(_("sender cost centre"), max_length=10)
    receiver_cost_centre = models.CharField(_("receiver cost centre"), max_length=10)
    activity_type = models.CharField(_("activity type"), max_length=6, blank=True)
    cost_element = models.CharField(_("cost element"), max_length=10, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=10)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    posting_date = models.DateField(_("posting date"))
    text = models.CharField(_("text"), max_length=50)
    reverses = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name=_("reverses")
    )
    sap_document = models.CharField(_("SAP document number"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["batch", "pk"]
        constraints = [
            # A room is charged once per booking (reversals name the posting they reverse).
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(order__isnull=True, reverses__isnull=True),
                name="posting_room_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender_cost_centre} → {self.receiver_cost_centre} {self.amount} {self.currency}"
