#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (Chromium for browser
# tests, slapd for the directory tests, promtool for the alert rules, HAProxy for the
# two app servers, PgBouncer for CI's transaction-pooling run, an MIT KDC (krb5kdc,
# kdb5_util, kadmin.local, kinit) for the Kerberos sign-in to the EWS double) when they
# are missing and we run as root; otherwise says what is missing.
# Called by `make test`; idempotent and quick when everything is there.
set -euo pipefail

# file that must exist -> Debian package providing it
declare -A NEEDED=(
    [/usr/bin/chromium]=chromium
    [/usr/sbin/slapd]=slapd
    [/usr/bin/ldapadd]=ldap-utils
    [/usr/bin/openssl]=openssl
    [/usr/include/ldap.h]=libldap2-dev
    [/usr/include/sasl/sasl.h]=libsasl2-dev
    [/usr/bin/gcc]=gcc
    [/usr/bin/promtool]=prometheus
    [/usr/sbin/krb5kdc]=krb5-kdc
    [/usr/sbin/kadmin.local]=krb5-admin-server
    [/usr/bin/kinit]=krb5-user
    [/usr/bin/krb5-config]=libkrb5-dev
    [/usr/sbin/haproxy]=haproxy
    [/usr/sbin/pgbouncer]=pgbouncer
)

missing=()
for path in "${!NEEDED[@]}"; do
    [ -e "$path" ] || missing+=("${NEEDED[$path]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages for the test suite: ${missing[*]}" >&2
    echo "Install them (apt-get install ${missing[*]}) or run make test as root." >&2
    exit 0
fi
echo "Installing Debian packages for the test suite: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own slapd; the package must not configure and start one on port 389.
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
# Nor may HAProxy and PgBouncer start as services: the tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
