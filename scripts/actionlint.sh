#!/usr/bin/env bash
# Prints the path of an actionlint binary (stdout), building it first when needed:
#   1. $TK_ACTIONLINT, when set;
#   2. a copy built earlier by this script, in the cache folder;
#   3. otherwise it builds github.com/rhysd/actionlint/cmd/actionlint from the Go module proxy
#      (`go install`, about a minute on 2 cores) into the cache folder.
# A pinned version is built rather than whatever `actionlint` is on PATH, so every machine lints
# the workflows with the same rules.
#
# Usage: scripts/actionlint.sh [--no-build]
#   --no-build  print nothing and exit 1 instead of building
# Environment: TK_ACTIONLINT, TK_ACTIONLINT_VERSION (default below), TK_ACTIONLINT_CACHE (default
# ~/.cache/trapperkeeper-deploy/actionlint-<version>).
set -euo pipefail

VERSION=${TK_ACTIONLINT_VERSION:-v1.7.12}
CACHE=${TK_ACTIONLINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trapperkeeper-deploy/actionlint-$VERSION}
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "actionlint: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [ -n "${TK_ACTIONLINT:-}" ]; then
  [ -x "$TK_ACTIONLINT" ] || { echo "actionlint: TK_ACTIONLINT=$TK_ACTIONLINT is not an executable file" >&2; exit 1; }
  echo "$TK_ACTIONLINT"; exit 0
fi
if [ -x "$CACHE/bin/actionlint" ]; then echo "$CACHE/bin/actionlint"; exit 0; fi
[ "$BUILD" = 1 ] || exit 1

command -v go >/dev/null 2>&1 || {
  echo "actionlint: no Go toolchain to build actionlint $VERSION: install Go (https://go.dev/doc/install) or set TK_ACTIONLINT to an actionlint binary" >&2
  exit 1
}
echo "actionlint: building actionlint $VERSION from the Go module proxy into $CACHE" >&2
mkdir -p "$CACHE/bin"
# GOBIN is a temporary folder in the cache, moved into place whole, so an interrupted build never
# leaves a half-written binary that step 2 would pick up.
tmp=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" GOFLAGS=-mod=mod go install -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2
mv "$tmp/actionlint" "$CACHE/bin/actionlint"
"$CACHE/bin/actionlint" -version >&2
echo "$CACHE/bin/actionlint"
