#!/usr/bin/env bash
# Vendors cytoscape for the topology page (/ui): the built, minified file and its licence, committed here so
# that neither the build nor the page needs npm or a network. Run it to move to another version, then commit
# what it changed: ./update.sh [VERSION]   (default: the version in VERSION beside it)
set -euo pipefail
cd "$(dirname "$0")"
version="${1:-$(cat VERSION)}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "cytoscape@$version" >/dev/null)
tar -xzf "$work/cytoscape-$version.tgz" -C "$work"
cp "$work/package/dist/cytoscape.min.js" cytoscape.min.js
cp "$work/package/LICENSE" cytoscape.LICENSE
echo "$version" > VERSION
echo "cytoscape $version: $(wc -c < cytoscape.min.js) bytes, sha256 $(sha256sum cytoscape.min.js | cut -d' ' -f1)"
