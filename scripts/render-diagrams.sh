#!/usr/bin/env bash
# Regenerates docs/architecture/<example>.svg from the four `plinth init` examples, and renders
# each one to PNG with headless Chromium so a person can look at it before committing.
#
#   scripts/render-diagrams.sh              # PNGs in target/diagrams/
#   PNG_DIR=/tmp/d SCALE=2 scripts/render-diagrams.sh
#
# Needs Chromium (`apt-get install -y chromium`; or set CHROMIUM=/path/to/chrome). The PNGs are
# for review only: the SVGs are the committed docs images.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
png_dir="${PNG_DIR:-$root/target/diagrams}"
scale="${SCALE:-1}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    echo "error: no Chromium at $chromium; install it (apt-get install -y chromium) or set CHROMIUM" >&2
    exit 1
fi

cargo build -q --manifest-path "$root/Cargo.toml" -p plinth
plinth="$root/target/debug/plinth"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$root/docs/architecture" "$png_dir"

for example in minimal node-pools multi-cloud environments; do
    "$plinth" -q init "$work/$example" --example "$example" --name "$example"
    svg="$root/docs/architecture/$example.svg"
    "$plinth" -q diagram "$work/$example" --out "$svg"

    # Screenshot exactly the SVG's own size.
    size="$(sed -n 's/^<svg [^>]*width="\([0-9]*\)[0-9.]*" height="\([0-9]*\)[0-9.]*".*/\1,\2/p' "$svg" | head -n 1)"
    if [ -z "$size" ]; then
        echo "error: no width/height in $svg" >&2
        exit 1
    fi
    profile="$(mktemp -d "$work/chromium.XXXXXX")"
    "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor="$scale" \
        --window-size="$size" --screenshot="$png_dir/$example.png" "file://$svg" \
        >"$work/chromium.log" 2>&1 || {
        cat "$work/chromium.log" >&2
        exit 1
    }
    if [ ! -s "$png_dir/$example.png" ]; then
        echo "error: Chromium wrote no $png_dir/$example.png" >&2
        cat "$work/chromium.log" >&2
        exit 1
    fi
    echo "$svg -> $png_dir/$example.png ($size)"
done
