#!/usr/bin/env bash
# Make Debian's python3-rados importable from a virtualenv, and nothing else of
# /usr/lib/python3/dist-packages: a directory holding only a symlink to the
# rados extension module, added to sys.path by a .pth file.
#   tests/ceph/venv_rados.sh [VENV]   (default .venv)
set -euo pipefail
venv=${1:-.venv}
so=$(dpkg -L python3-rados 2>/dev/null | grep -E '/rados\.cpython-[0-9]+-.*\.so$' | head -1) \
    || { echo "python3-rados is not installed (apt-get install -y python3-rados)" >&2; exit 1; }
[[ -n $so ]] || { echo "no rados module in python3-rados" >&2; exit 1; }
py="$venv/bin/python"
want=$(basename "$so" | sed -E 's/^rados\.(cpython-[0-9]+)-.*/\1/')
have=$("$py" -c 'import sys; print(f"cpython-{sys.version_info[0]}{sys.version_info[1]}")')
[[ $want == "$have" ]] || { echo "$so is built for $want but $py is $have" >&2; exit 1; }
dir=$(realpath "$venv")/ceph-rados
mkdir -p "$dir"
ln -sfn "$so" "$dir/$(basename "$so")"
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
echo "$dir" >"$site/ceph_rados.pth"
"$py" -c 'import rados; print("rados", rados.__file__)'
