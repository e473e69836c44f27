"""Where bookings happen: sites (with their time zone), buildings, floors, rooms."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def zone_city(zone) -> str:
    """A time zone by its city, as people name it: Europe/Berlin → Berlin, America/New_York → New York."""
    return str(zone).rsplit("/", 1)[-1].replace("_", " ")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not an IANA time zone."), params={"value": value})


class Site(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Berlin", validators=[validate_time_zone]
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Building(models.Model):
    site = models.ForeignKey(Site, models.PROTECT, related_name="buildings", verbose_name=_("site"))
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["site__name", "name"]
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="building_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.site})"


class Floor(models.Model):
    building = models.ForeignKey(Building, models.PROTECT, related_name="floors", verbose_name=_("building"))
    name = models.CharField(_("name"), max_length=100)
    level = models.SmallIntegerField(_("level"), default=0)

    class Meta:
        verbose_name = _("floor")
        verbose_name_plural = _("floors")
        ordering = ["building__name", "level"]
        constraints = [models.UniqueConstraint(fields=["building", "name"], name="floor_unique_name")]

    def __str__(self) -> str:
        return f"{self.building.name}, {self.name}"


class Equipment(models.Model):
    code = models.SlugField(
        _("code"), max_length=50, unique=True, help_text=_("Used in the API, e.g. ?equipment=projector")
    )
    name = models.CharField(_("name (German)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.localized_name(get_language() or "de")

    def localized_name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name


class Room(models.Model):
    floor = models.ForeignKey(Floor, models.PROTECT, related_name="rooms", verbose_name=_("floor"))
    name = models.CharField(_("name"), max_length=100)
    capacity = models.PositiveIntegerField(_("capacity"))
    equipment = models.ManyToManyField(
        Equipment, blank=True, related_name="rooms", verbose_name=_("equipment")
    )
    bookable = models.BooleanField(_("bookable"), default=True)
    description = models.TextField(_("description"), blank=True)
    photo = models.ImageField(_("photo"), blank=True, upload_to="rooms/")
    exchange_mailbox = models.EmailField(_("Exchange mailbox"), blank=True)
    sap_id = models.CharField(_("SAP id"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["floor", "name"], name="room_unique_name"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="room_capacity_positive"),
        ]

    # What a query must select_related for place_label.
    PLACE = "floor__building__site"

    def __str__(self) -> str:
        return self.name

    @property
    def place_label(self) -> str:
        """The room as nobody can mistake it where one is picked: "Berlin · Haus A · EG · H0.01 Spree"."""
        building = self.floor.building
        return " · ".join((building.site.name, building.name, self.floor.name, self.name))
