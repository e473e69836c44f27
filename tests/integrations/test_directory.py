"""Sign-in with directory accounts, roles from nested groups, and the sync, against slapd.

Personas from the directory: mmuster (staff through a nested department group),
ebeispiel (room manager two groups deep), fadmin (facility admin), dadmin (display
admin, and staff through a cycle of groups), gesperrt (disabled). The local ``admin``
is the emergency account that must work whatever the directory does.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest

from integrations.directory.login import ldap_available

if not ldap_available():
    WHY = "python-ldap is not installed: `make install` adds it where libldap2-dev and libsasl2-dev exist"
    if os.environ.get("CI"):
        raise RuntimeError(WHY)  # CI must run these, never skip them
    pytest.skip(WHY, allow_module_level=True)

import ldap
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, OutboxMessage, Policy
from bookings.rules.groups import is_manager, managed_rooms_filter
from bookings.rules.resolve import rules_for
from integrations.directory.adapter import LdapDirectory
from integrations.directory.client import DirectoryClient
from integrations.directory.login import normalize_login
from integrations.directory.models import DirectoryAccount, SyncState
from integrations.directory.sync import SyncBusy, sync_directory
from tests import factories

from . import slapd as sl
from .conftest import PASSWORDS, group_dn, people_dn

LOGIN = "login"


def sign_in(client, username: str, password: str, **extra):
    return client.post(reverse(LOGIN), {"username": username, "password": password}, **extra)


def form_errors(response) -> list[str]:
    return [e.code for e in response.context["form"].non_field_errors().as_data()]


@pytest.fixture
def local_admin(db):
    return User.objects.create_superuser("admin", "admin@example.com", "local-admin-pw-1")


# Sign-in.


@pytest.mark.parametrize("login", ["mmuster", "MMuster@firma.de", "FIRMA\\mmuster", " mmuster "])
def test_it_signs_in_with_each_login_form(client, use_directory, login):
    response = sign_in(client, login, PASSWORDS["mmuster"])

    assert response.status_code == 302
    assert response.url == reverse("bookings:home")
    user = User.objects.get(username="mmuster")
    assert (user.first_name, user.last_name, user.email) == ("Max", "Mustermann", "max.mustermann@firma.de")
    assert user.directory_account.department == "Einkauf"
    assert user.directory_account.phone == "+49 30 1234-56"
    assert not user.has_usable_password()
    assert user.groups.filter(name="directory users").exists()
    assert client.get(reverse("bookings:home")).status_code == 200


def test_it_refuses_a_wrong_password(client, use_directory):
    response = sign_in(client, "mmuster", "falsch")

    assert response.status_code == 200
    assert form_errors(response) == ["invalid_login"]
    assert not User.objects.filter(username="mmuster").exists()


def test_it_refuses_a_disabled_account(client, use_directory):
    response = sign_in(client, "gesperrt", PASSWORDS["gesperrt"])

    assert form_errors(response) == ["invalid_login"]
    assert not User.objects.filter(username="gesperrt").exists()


def test_it_makes_nested_group_members_room_managers(client, use_directory):
    sign_in(client, "ebeispiel", PASSWORDS["ebeispiel"])

    erika = User.objects.get(username="ebeispiel")
    assert erika.groups.filter(name="room managers").exists()
    assert erika.is_staff and not erika.is_superuser
    assert erika.has_perm("bookings.change_booking")
    assert erika.directory_account.roles == ["room_managers"]


def test_it_scopes_room_managers_to_the_building_named_in_its_policy(client, use_directory):
    # Raumverwalter mirrored as a Django group of its own, no longer the global role.
    use_directory(RFR_LDAP_GROUP_ROOM_MANAGERS="", RFR_LDAP_MANAGER_GROUPS=group_dn("Raumverwalter"))
    haus_a, haus_b = factories.building(name="Haus A"), factories.building(name="Haus B")
    room_a, room_b = factories.room(factories.floor(haus_a)), factories.room(factories.floor(haus_b))
    sign_in(client, "ebeispiel", PASSWORDS["ebeispiel"])

    erika = User.objects.get(username="ebeispiel")
    group = erika.groups.get(name="Raumverwalter")
    assert erika.directory_account.roles == ["manages:Raumverwalter"]
    # Managing some rooms is not a reason to see the admin or anyone's private titles.
    assert not erika.is_staff and not erika.has_perm("bookings.change_booking")
    Policy.objects.create(building=haus_a).managers.add(group)
    assert is_manager(erika, rules_for(room_a))
    assert not is_manager(erika, rules_for(room_b))
    managed = factories.booking(room_a, erika, factories.on(factories.days_ahead(3), 9))
    other = factories.booking(room_b, erika, factories.on(factories.days_ahead(3), 9))
    assert set(Booking.objects.filter(managed_rooms_filter(erika))) == {managed}
    assert other.pk != managed.pk


def test_it_resolves_a_cycle_of_groups_and_grants_each_role(client, use_directory):
    sign_in(client, "dadmin", PASSWORDS["dadmin"])
    client.logout()
    sign_in(client, "fadmin", PASSWORDS["fadmin"])

    dora = User.objects.get(username="dadmin")
    assert sorted(dora.directory_account.roles) == ["display_admins", "staff"]
    assert dora.has_perm("displays.change_display")
    assert not dora.has_perm("bookings.change_room")
    frank = User.objects.get(username="fadmin")
    assert frank.has_perm("bookings.change_room") and frank.has_perm("bookings.delete_booking")
    assert not frank.is_superuser


def test_it_refreshes_roles_at_every_sign_in(client, slapd, use_directory):
    sign_in(client, "ebeispiel", PASSWORDS["ebeispiel"])
    assert User.objects.get(username="ebeispiel").groups.filter(name="room managers").exists()
    client.logout()
    slapd.modify(group_dn("Empfang-Kern"), [(ldap.MOD_REPLACE, "member", people_dn("fadmin"))])
    try:
        sign_in(client, "ebeispiel", PASSWORDS["ebeispiel"])
    finally:
        slapd.modify(group_dn("Empfang-Kern"), [(ldap.MOD_REPLACE, "member", people_dn("ebeispiel"))])

    erika = User.objects.get(username="ebeispiel")
    assert not erika.groups.filter(name="room managers").exists()
    assert not erika.is_staff
    assert erika.directory_account.roles == []


def test_it_never_takes_over_a_local_account(client, use_directory, local_admin):
    # The directory has an "admin" too; its password must not open the local admin.
    assert form_errors(sign_in(client, "admin", PASSWORDS["admin"])) == ["invalid_login"]
    assert not DirectoryAccount.objects.filter(user=local_admin).exists()

    assert sign_in(client, "admin", "local-admin-pw-1").status_code == 302


def test_it_tries_the_next_server_when_the_first_is_down(client, slapd, use_directory):
    dead = f"ldap://127.0.0.1:{sl.free_port()}"
    use_directory(RFR_LDAP_SERVER_URI=f"{dead} {slapd.uri}")

    assert sign_in(client, "mmuster", PASSWORDS["mmuster"]).status_code == 302


def test_it_says_the_directory_is_unreachable_and_lets_local_admins_in(client, use_directory, local_admin):
    use_directory(RFR_LDAP_SERVER_URI=f"ldap://127.0.0.1:{sl.free_port()}")

    response = sign_in(client, "mmuster", PASSWORDS["mmuster"])
    assert form_errors(response) == ["directory_unreachable"]
    assert "Anmeldedienst nicht erreichbar" in response.content.decode()
    english = sign_in(client, "mmuster", PASSWORDS["mmuster"], HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign-in service unreachable" in english.content.decode()

    assert sign_in(client, "admin", "local-admin-pw-1").status_code == 302


def test_it_gives_up_on_a_hanging_directory_within_the_timeout(client, slapd, use_directory):
    use_directory(RFR_LDAP_TIMEOUT="1.5")
    slapd.pause()
    try:
        started = time.monotonic()
        response = sign_in(client, "mmuster", PASSWORDS["mmuster"])
        elapsed = time.monotonic() - started
    finally:
        slapd.resume()

    assert form_errors(response) == ["directory_unreachable"]
    assert 1.4 <= elapsed < 2.5, elapsed


def test_it_ends_the_session_of_a_deactivated_user(client, use_directory):
    sign_in(client, "mmuster", PASSWORDS["mmuster"])
    User.objects.filter(username="mmuster").update(is_active=False)

    response = client.get(reverse("bookings:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse(LOGIN))


def test_it_normalizes_login_names():
    assert normalize_login("FIRMA\\MMuster") == "mmuster"
    assert normalize_login("mmuster@firma.de") == "mmuster"
    assert normalize_login("  mmuster ") == "mmuster"
    assert normalize_login(None) == ""


def test_it_leaves_sign_in_alone_when_the_directory_is_off(client, settings, local_admin):
    assert settings.RFR_LDAP is None
    assert "integrations.directory.backend.DirectoryBackend" not in settings.AUTHENTICATION_BACKENDS

    assert form_errors(sign_in(client, "mmuster", PASSWORDS["mmuster"])) == ["invalid_login"]
    assert sign_in(client, "admin", "local-admin-pw-1").status_code == 302


# TLS.


def test_it_signs_in_over_starttls_with_the_ca_file(client, slapd, use_directory):
    use_directory(RFR_LDAP_START_TLS="1", RFR_LDAP_CA_FILE=str(slapd.certs["ca"]))

    assert sign_in(client, "mmuster", PASSWORDS["mmuster"]).status_code == 302


def test_it_signs_in_over_ldaps_with_the_ca_file(client, slapd, use_directory):
    use_directory(RFR_LDAP_SERVER_URI=slapd.ldaps_uri, RFR_LDAP_CA_FILE=str(slapd.certs["ca"]))

    assert sign_in(client, "mmuster", PASSWORDS["mmuster"]).status_code == 302


def test_it_refuses_a_server_certificate_from_another_ca(client, slapd, use_directory):
    use_directory(RFR_LDAP_START_TLS="1", RFR_LDAP_CA_FILE=str(slapd.certs["other-ca"]))

    response = sign_in(client, "mmuster", PASSWORDS["mmuster"])
    assert form_errors(response) == ["directory_unreachable"]
    assert not User.objects.filter(username="mmuster").exists()


# Sync.


def run_sync(conf, **kwargs):
    directory = LdapDirectory(conf)
    try:
        return sync_directory(directory=directory, conf=conf, **kwargs)
    finally:
        directory.client.close()


def test_it_needs_paging_for_more_people_than_the_server_returns_at_once(slapd, sync_tree, use_directory):
    tree = sync_tree(45)
    conf = use_directory(**tree.env())
    with DirectoryClient(conf) as client, pytest.raises(ldap.SIZELIMIT_EXCEEDED):
        client.connection.search_s(conf.user_search_base, ldap.SCOPE_SUBTREE, conf.user_filter, ["uid"])

    result = run_sync(conf)

    assert (result.mode, result.seen, result.created) == ("full", 45, 45)
    assert User.objects.filter(username__startswith=tree.ou).count() == 45
    staff = User.objects.filter(username__startswith=tree.ou, is_staff=True)
    assert staff.count() == 23  # the nested group holds the first half, and Facility the last one
    last = User.objects.get(username=tree.uids[-1])
    assert last.groups.filter(name="facility admins").exists()


def test_it_is_idempotent(sync_tree, use_directory):
    conf = use_directory(**sync_tree(25).env())
    run_sync(conf)

    again = run_sync(conf, full=True)

    assert (again.seen, again.unchanged, again.created, again.updated) == (25, 25, 0, 0)


def test_it_runs_one_sync_at_a_time_and_takes_over_a_lease_that_ran_out(sync_tree, use_directory):
    conf = use_directory(**sync_tree(3).env())
    # Another server's sync holds the lease (a row, so it holds through PgBouncer too).
    SyncState.objects.update_or_create(
        name="default", defaults={"running_until": timezone.now() + timedelta(minutes=5)}
    )

    with pytest.raises(SyncBusy):
        run_sync(conf)

    # That sync died an hour ago: its lease has run out, and the next run takes over.
    SyncState.objects.filter(name="default").update(running_until=timezone.now() - timedelta(seconds=1))
    assert run_sync(conf).created == 3
    assert SyncState.objects.get(name="default").running_until is None


def test_it_finds_the_user_a_sign_in_created(client, slapd, sync_tree, use_directory):
    tree = sync_tree(3)
    slapd.modify(tree.dn(tree.uids[0]), [(ldap.MOD_ADD, "userPassword", "Sync-Passwort-1")])
    conf = use_directory(**tree.env())
    assert sign_in(client, tree.uids[0], "Sync-Passwort-1").status_code == 302

    result = run_sync(conf)

    assert (result.created, result.unchanged) == (2, 1)
    assert User.objects.filter(username=tree.uids[0]).count() == 1


def test_it_deactivates_a_leaver_and_reports_their_future_bookings(slapd, sync_tree, use_directory):
    tree = sync_tree(12)
    conf = use_directory(**tree.env())
    run_sync(conf)
    leaver = User.objects.get(username=tree.uids[3])
    room = factories.room()
    future = factories.booking(room, leaver, factories.tomorrow_at(10), title="Planung")
    past = factories.booking(room, leaver, timezone.now() - timedelta(days=2), title="Vorbei")
    slapd.delete(tree.dn(tree.uids[3]))

    result = run_sync(conf, full=True)

    assert (result.deactivated, result.bookings_reported, result.bookings_cancelled) == (1, 1, 0)
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert User.objects.filter(pk=leaver.pk).exists()  # never deleted
    assert leaver.directory_account.left_at is not None
    future.refresh_from_db()
    assert future.status == Booking.Status.CONFIRMED
    report = OutboxMessage.objects.get(topic="directory.user_left", channel="log")
    assert report.payload["username"] == tree.uids[3]
    assert [b["id"] for b in report.payload["bookings"]] == [future.pk]
    assert past.pk not in [b["id"] for b in report.payload["bookings"]]
    assert run_sync(conf, full=True).deactivated == 0  # once is enough


def test_it_cancels_the_future_bookings_of_leavers_when_asked(slapd, sync_tree, use_directory):
    tree = sync_tree(12)
    conf = use_directory(**tree.env(), RFR_LDAP_CANCEL_BOOKINGS_OF_LEAVERS="1")
    run_sync(conf)
    leaver = User.objects.get(username=tree.uids[5])
    future = factories.booking(factories.room(), leaver, factories.tomorrow_at(14))
    slapd.modify(tree.dn(tree.uids[5]), [(ldap.MOD_ADD, "employeeType", "disabled")])

    result = run_sync(conf, full=True)

    assert (result.deactivated, result.bookings_cancelled) == (1, 1)
    future.refresh_from_db()
    assert future.status == Booking.Status.CANCELLED
    assert future.events.filter(kind="cancelled").exists()
    report = OutboxMessage.objects.get(topic="directory.user_left", channel="log")
    assert [b["id"] for b in report.payload["cancelled"]] == [future.pk]


def test_it_reactivates_someone_who_returns(slapd, sync_tree, use_directory):
    tree = sync_tree(12)
    conf = use_directory(**tree.env())
    run_sync(conf)
    slapd.modify(tree.dn(tree.uids[1]), [(ldap.MOD_ADD, "employeeType", "disabled")])
    run_sync(conf)
    slapd.modify(tree.dn(tree.uids[1]), [(ldap.MOD_DELETE, "employeeType", None)])

    result = run_sync(conf)

    assert result.reactivated == 1
    assert User.objects.get(username=tree.uids[1]).is_active


def test_it_picks_up_changes_incrementally(slapd, sync_tree, use_directory):
    tree = sync_tree(30)
    conf = use_directory(**tree.env())
    # modifyTimestamp counts seconds and the mark is inclusive (a change in the mark's
    # second is read again, never missed), so the changes keep a second apart.
    time.sleep(1.1)
    slapd.modify(tree.dn(tree.uids[2]), [(ldap.MOD_REPLACE, "telephoneNumber", "+49 89 555-1")])
    first = run_sync(conf)
    assert SyncState.objects.get().mark == first.mark != ""
    time.sleep(1.1)
    slapd.modify(tree.dn(tree.uids[7]), [(ldap.MOD_REPLACE, "telephoneNumber", "+49 89 555-7")])
    slapd.modify(tree.group("Facility"), [(ldap.MOD_ADD, "member", tree.dn(tree.uids[20]))])

    result = run_sync(conf)

    assert result.mode == "incremental"
    assert (result.seen, result.unchanged, result.updated, result.roles_changed) == (2, 1, 1, 1)
    assert DirectoryAccount.objects.get(user__username=tree.uids[7]).phone == "+49 89 555-7"
    assert User.objects.get(username=tree.uids[20]).groups.filter(name="facility admins").exists()


def test_it_refuses_to_deactivate_most_accounts_at_once(sync_tree, use_directory):
    tree = sync_tree(24)
    conf = use_directory(**tree.env())
    run_sync(conf)
    narrowed = use_directory(**tree.env(), RFR_LDAP_USER_FILTER="(&(objectClass=inetOrgPerson)(uid=*-u00*))")

    with pytest.raises(Exception, match="no longer lists 14 of 24"):
        run_sync(narrowed, full=True)
    assert User.objects.filter(username__startswith=tree.ou, is_active=True).count() == 24
    assert run_sync(narrowed, full=True, force=True).deactivated == 14


def test_the_command_prints_progress_and_counts(sync_tree, use_directory, capsys):
    use_directory(**sync_tree(15).env())

    call_command("sync_directory", "--full")

    out = capsys.readouterr().out
    assert "full sync started" in out
    assert "15 read, 15 created" in out


# Brute-force protection.


def test_it_locks_out_a_name_after_repeated_failures_in_any_spelling(client, use_directory, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for login in ["mmuster", "FIRMA\\mmuster"]:
        assert form_errors(sign_in(client, login, "falsch")) == ["invalid_login"]

    locked = sign_in(client, "mmuster@firma.de", "falsch")
    assert locked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in locked.content.decode()
    right_password = sign_in(client, "mmuster", PASSWORDS["mmuster"], HTTP_ACCEPT_LANGUAGE="en")
    assert right_password.status_code == 429
    assert "Too many failed sign-in attempts. Please wait 15 minutes" in right_password.content.decode()
    assert "_auth_user_id" not in client.session

    assert sign_in(client, "ebeispiel", PASSWORDS["ebeispiel"]).status_code == 302  # others carry on


def test_it_locks_out_on_the_admin_sign_in_too(client, settings, local_admin):
    settings.AXES_FAILURE_LIMIT = 2
    for _attempt in range(2):
        client.post("/admin/login/", {"username": "admin", "password": "falsch"})

    response = client.post("/admin/login/", {"username": "admin", "password": "local-admin-pw-1"})

    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in response.content.decode()


def test_it_never_locks_out_api_tokens(client, settings, alice, token_for):
    settings.AXES_FAILURE_LIMIT = 2
    headers = token_for(alice)
    for _attempt in range(3):
        sign_in(client, "alice", "falsch")
    assert sign_in(client, "alice", "alice-pw-123").status_code == 429

    response = client.get("/api/v1/bookings", headers=headers)

    assert response.status_code == 200


def test_it_does_not_count_a_directory_outage_as_failures(client, slapd, use_directory, settings):
    settings.AXES_FAILURE_LIMIT = 2
    use_directory(RFR_LDAP_SERVER_URI=f"ldap://127.0.0.1:{sl.free_port()}")
    for _attempt in range(3):
        assert form_errors(sign_in(client, "mmuster", PASSWORDS["mmuster"])) == ["directory_unreachable"]

    use_directory(RFR_LDAP_SERVER_URI=slapd.uri)
    assert sign_in(client, "mmuster", PASSWORDS["mmuster"]).status_code == 302


def test_it_leaves_a_local_account_alone_that_holds_a_directory_name(sync_tree, use_directory):
    tree = sync_tree(8)
    local = User.objects.create_user(tree.uids[4], password="local-pw-123")
    conf = use_directory(**tree.env())

    result = run_sync(conf)

    assert (result.created, result.conflicts, result.conflict_names) == (7, 1, [tree.uids[4]])
    local.refresh_from_db()
    assert local.has_usable_password() and not DirectoryAccount.objects.filter(user=local).exists()


def test_it_reads_only_later_changes_once_the_marks_second_is_long_over(sync_tree, use_directory):
    conf = use_directory(**sync_tree(6).env())
    run_sync(conf)
    SyncState.objects.update(mark="20000101000000Z")  # settled: compared exclusively
    assert "(!(modifyTimestamp<=20000101000000Z))" in LdapDirectory(conf)._changed_since("20000101000000Z")

    result = run_sync(conf)

    assert (result.mode, result.seen, result.unchanged) == ("incremental", 6, 6)


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_new_person_converge_on_one_user():
    import threading

    from django.db import connection

    from integrations.base import Person
    from integrations.directory.accounts import upsert_person

    person = Person(external_id="race-1", username="rennen", first_name="Renate", last_name="Rennen")
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def write():
        try:
            barrier.wait(timeout=10)
            outcomes.append(upsert_person(person, now=timezone.now())[1])
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == ["created", "unchanged"]
    assert User.objects.filter(username="rennen").count() == 1
    assert DirectoryAccount.objects.filter(external_id="race-1").count() == 1
