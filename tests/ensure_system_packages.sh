#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (Chromium for browser
# tests) when they are missing and we run as root; otherwise says what is missing.
# Called by `make test`; idempotent and quick when everything is there.
set -euo pipefail

# command that must exist -> Debian package providing it
declare -A NEEDED=(
    [/usr/bin/chromium]=chromium
)

missing=()
for path in "${!NEEDED[@]}"; do
    [ -x "$path" ] || missing+=("${NEEDED[$path]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages for the test suite: ${missing[*]}" >&2
    echo "Install them (apt-get install ${missing[*]}) or run make test as root." >&2
    exit 0
fi
echo "Installing Debian packages for the test suite: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
