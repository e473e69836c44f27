"""`make demo` on another port: the links it shows point at the running app (DESIGN.md)."""

from __future__ import annotations

from ops.management.commands.demo import public_url


def test_it_derives_the_public_url_from_the_demos_port():
    assert public_url("127.0.0.1", 8311, environ={}) == "http://127.0.0.1:8311"


def test_it_keeps_a_public_url_set_in_the_environment():
    environ = {"RFR_PUBLIC_URL": "https://raum.firma.de/"}
    assert public_url("127.0.0.1", 8311, environ=environ) == "https://raum.firma.de"


def test_it_points_a_demo_on_every_interface_at_this_machine():
    assert public_url("0.0.0.0", 8400, environ={}) == "http://127.0.0.1:8400"  # noqa: S104
    assert public_url("::", 8400, environ={}) == "http://127.0.0.1:8400"
