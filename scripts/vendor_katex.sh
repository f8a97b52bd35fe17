#!/usr/bin/env bash
# KaTeX's distribution (JS, CSS, fonts) into $1, from the npm registry: the docs site renders its
# math with it locally, so nothing is fetched when the site is viewed.
set -euo pipefail
dest="$1"
version="0.16.47"
if ! command -v npm >/dev/null; then
  echo "vendor_katex: npm not found; the site builds, but its math shows as TeX (install Node.js for KaTeX)" >&2
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "katex@$version" --silent >/dev/null && tar xzf "katex-$version.tgz")
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$tmp/package/dist/katex.min.js" "$tmp/package/dist/katex.min.css" "$tmp/package/dist/fonts" "$tmp/package/dist/contrib" "$dest/"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "KaTeX $version in $dest"
