#!/usr/bin/env bash
# Install the Debian packages whose commands are missing, as root or with passwordless sudo.
#   tools/apt-need.sh WHAT COMMAND:PACKAGE ...
# WHAT names what needs them, for the messages. Without root or sudo it says loudly what is
# missing and how to install it, and exits 0: the caller's tests report the rest.
set -euo pipefail
what=$1; shift
missing=()
for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) == 0 ]]; then sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n)
else
    echo "*** make: ${missing[*]} not installed, and installing needs root or sudo."
    echo "*** Run 'apt-get install -y ${missing[*]}' as root; until then $what cannot run."
    exit 0
fi
echo "make: installing ${missing[*]} from Debian for $what"
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
