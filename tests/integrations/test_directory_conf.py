"""RFR_LDAP_* parsing: off when unset, defaults per server type, clear errors."""

from __future__ import annotations

import pytest

from integrations.directory.conf import AD_USER_FILTER, ConfigError, from_env

BASE = {
    "RFR_LDAP_SERVER_URI": "ldap://dc1.firma.de ldap://dc2.firma.de",
    "RFR_LDAP_USER_SEARCH_BASE": "DC=firma,DC=de",
}


def test_it_is_off_without_a_server_uri():
    assert from_env({}) is None
    assert from_env({"RFR_LDAP_USER_SEARCH_BASE": "dc=x"}) is None


def test_it_defaults_to_active_directory():
    conf = from_env(BASE)

    assert conf.server_uris == ("ldap://dc1.firma.de", "ldap://dc2.firma.de")
    assert conf.uri == "ldap://dc1.firma.de ldap://dc2.firma.de"
    assert (conf.login_attribute, conf.id_attribute, conf.change_attribute) == (
        "sAMAccountName",
        "objectGUID",
        "uSNChanged",
    )
    assert conf.user_filter == AD_USER_FILTER
    assert conf.nested_groups == "in_chain"
    assert conf.login_filter == f"(&{AD_USER_FILTER}(sAMAccountName=%(user)s))"
    assert conf.group_search_base == "DC=firma,DC=de"
    assert conf.timeout == 5.0


def test_it_reads_several_group_dns_and_the_attribute_map(tmp_path):
    secret = tmp_path / "bind-password"
    secret.write_text("geheim\n")
    conf = from_env(
        {
            **BASE,
            "RFR_LDAP_GROUP_ROOM_MANAGERS": "CN=Raum A,OU=G,DC=firma,DC=de; CN=Raum B,OU=G,DC=firma,DC=de",
            "RFR_LDAP_ATTRIBUTE_MAP": "phone=mobile, department=",
            "RFR_LDAP_BIND_PASSWORD_FILE": str(secret),
            "RFR_LDAP_TIMEOUT": "2.5",
        }
    )

    assert conf.role_groups == {
        "room_managers": ("CN=Raum A,OU=G,DC=firma,DC=de", "CN=Raum B,OU=G,DC=firma,DC=de")
    }
    assert conf.attributes == {
        "first_name": "givenName",
        "last_name": "sn",
        "email": "mail",
        "phone": "mobile",
    }
    assert conf.bind_password == "geheim"
    assert conf.timeout == 2.5
    assert "geheim" not in repr(conf)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"RFR_LDAP_USER_SEARCH_BASE": ""}, "RFR_LDAP_USER_SEARCH_BASE"),
        ({"RFR_LDAP_SERVER_URI": "dc1.firma.de"}, "RFR_LDAP_SERVER_URI"),
        ({"RFR_LDAP_USER_FILTER": "objectClass=user"}, "RFR_LDAP_USER_FILTER"),
        ({"RFR_LDAP_NESTED_GROUPS": "deep"}, "RFR_LDAP_NESTED_GROUPS"),
        ({"RFR_LDAP_TIMEOUT": "soon"}, "RFR_LDAP_TIMEOUT"),
        ({"RFR_LDAP_ATTRIBUTE_MAP": "title=title"}, "RFR_LDAP_ATTRIBUTE_MAP"),
        ({"RFR_LDAP_CA_FILE": "/nonexistent/ca.pem"}, "RFR_LDAP_CA_FILE"),
        ({"RFR_LDAP_SERVER_URI": "ldaps://dc1", "RFR_LDAP_START_TLS": "1"}, "RFR_LDAP_START_TLS"),
    ],
)
def test_it_names_the_variable_that_is_wrong(env, names):
    with pytest.raises(ConfigError, match=names):
        from_env({**BASE, **env})
