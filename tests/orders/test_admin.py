"""Export batches in the admin: only with the "SAP export" permission, with totals and the files."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.contrib.auth.models import Permission

from orders import services
from orders.export import export_batch
from tests import factories
from tests.helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(settings, tmp_path, room, alice, alice_pays, coffee):
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    meeting = factories.booking(room, alice, at(date(2027, 3, 10), 9))
    with time_machine.travel(at(date(2027, 3, 9), 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice, quantity=4)
    return export_batch(now=at(date(2027, 3, 11), 6)).batch


@pytest.fixture
def controller(fiona):
    fiona.user_permissions.add(Permission.objects.get(codename="sap_export"))
    return fiona


def test_it_lists_batches_with_their_total_and_offers_the_file(client, controller, batch):
    client.force_login(controller)

    page = client.get("/admin/orders/exportbatch/").content.decode()
    assert "9,40" in page and "rfr-co-000001.csv" in page
    response = client.get(f"/admin/orders/exportbatch/{batch.pk}/download/rfr-co-000001.csv")
    assert response.status_code == 200
    assert b"sender_cost_centre" in b"".join(response.streaming_content)


def test_it_hides_batches_from_staff_without_the_permission(client, fiona, batch):
    client.force_login(fiona)

    assert client.get("/admin/orders/exportbatch/").status_code == 403
    assert client.get(f"/admin/orders/exportbatch/{batch.pk}/download/rfr-co-000001.csv").status_code == 403


def test_it_serves_no_file_the_batch_does_not_list(client, controller, batch):
    client.force_login(controller)

    assert client.get(f"/admin/orders/exportbatch/{batch.pk}/download/secret_key").status_code == 404
