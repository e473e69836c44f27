#!/usr/bin/env bash
# Installs the Debian packages pip needs to build python-ldap (LDAP and SASL headers, a
# C compiler) and python-gssapi (MIT Kerberos headers and krb5-config) when they are
# missing and we run as root; otherwise says what is missing.
# Called by `make install` before pip; idempotent and quick when everything is there.
# Exit 0: both can be built (install the [ldap] and [kerberos] extras); 1: they cannot,
# and the app runs without directory sign-in and without Kerberos sign-in to Exchange.
set -euo pipefail

# file that must exist -> Debian package providing it
declare -A NEEDED=(
    [/usr/include/ldap.h]=libldap2-dev
    [/usr/include/sasl/sasl.h]=libsasl2-dev
    [/usr/bin/gcc]=gcc
    [/usr/bin/krb5-config]=libkrb5-dev
)

missing=()
for path in "${!NEEDED[@]}"; do
    [ -e "$path" ] || missing+=("${NEEDED[$path]}")
done
# Debian's own Python keeps its headers in python3-dev (the interpreter is $1).
include=$("${1:-python3}" -c 'import sysconfig; print(sysconfig.get_path("include"))' 2>/dev/null || true)
if [[ "$include" == /usr/include/* ]] && [ ! -e "$include/Python.h" ]; then
    missing+=(python3-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Directory sign-in (LDAP) and Kerberos sign-in to Exchange are left out: python-ldap" >&2
    echo "and python-gssapi are built from source and need" >&2
    echo "${missing[*]}. Install them (apt-get install ${missing[*]}) or run make as root." >&2
    exit 1
fi
echo "Installing Debian packages to build python-ldap and python-gssapi: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "Directory sign-in (LDAP) and Kerberos sign-in are left out: could not install ${missing[*]}." >&2
    exit 1
fi
