#!/usr/bin/env bash
# What the workbench's browser tests need, installed only where missing (idempotent,
# quiet): Debian's Chromium and the Noto CJK fonts (without them every Chinese
# character in a screenshot is an empty box), then the front-end assets and compiled
# catalogues (fetch-web-assets.sh). Python packages come from pyproject.toml.
# Never `playwright install`: the tests drive /usr/bin/chromium.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q "install ok installed" \
    || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
    SUDO=""
    [[ "$(id -u)" == 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

"$ROOT/scripts/fetch-web-assets.sh"
