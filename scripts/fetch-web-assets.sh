#!/usr/bin/env bash
# Copy the workbench's front-end files (htmx, Apache ECharts) from the npm registry into
# src/tierstock/web/static/vendor/, with their licences, and compile the Babel message
# catalogues (.po -> .mo). Idempotent and quiet: files already present are kept.
# Needs: npm (the registry client) and the project's venv with babel installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/src/tierstock/web"
VENDOR="$WEB/static/vendor"
PYBABEL="${PYBABEL:-$ROOT/.venv/bin/pybabel}"

HTMX_VERSION="2.0.11"
ECHARTS_VERSION="6.1.0"

mkdir -p "$VENDOR"

fetch() {  # fetch <npm package> <version> <file in package> <target name> <licence target>
    local pkg="$1" version="$2" file="$3" target="$4" licence="$5"
    if [[ -s "$VENDOR/$target" && -s "$VENDOR/$licence" ]]; then
        return 0
    fi
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
    tar -xzf "$tmp"/*.tgz -C "$tmp"
    cp "$tmp/package/$file" "$VENDOR/$target"
    cp "$tmp/package/LICENSE" "$VENDOR/$licence"
    [[ -f "$tmp/package/NOTICE" ]] && cp "$tmp/package/NOTICE" "$VENDOR/$licence.NOTICE"
    return 0
}

fetch htmx.org "$HTMX_VERSION" dist/htmx.min.js htmx.min.js htmx.LICENSE
fetch echarts "$ECHARTS_VERSION" dist/echarts.min.js echarts.min.js echarts.LICENSE

# Message catalogues: compile every .po whose .mo is missing or older.
for po in "$WEB"/locale/*/LC_MESSAGES/messages.po; do
    mo="${po%.po}.mo"
    if [[ ! -f "$mo" || "$po" -nt "$mo" ]]; then
        "$PYBABEL" --quiet compile -i "$po" -o "$mo"
    fi
done
