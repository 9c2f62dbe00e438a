#!/usr/bin/env bash
# Prints the path of a fake-gcs-server binary (stdout), the local Cloud Storage emulator the GCP
# target's release tests (lock, snapshots) run against, making one available first when needed:
#   1. $TK_FAKE_GCS, when set;
#   2. a copy built earlier by this script, in the cache folder;
#   3. otherwise it builds github.com/fsouza/fake-gcs-server from the Go module proxy into the
#      cache folder (about 2 minutes on 2 cores, once).
# Tests start it on 127.0.0.1 only (-host 127.0.0.1 -scheme http -backend memory).
#
# Usage: scripts/fake-gcs.sh [--no-build]
#   --no-build  print nothing and exit 1 instead of building (tests use it to skip fast)
# Environment: TK_FAKE_GCS, TK_FAKE_GCS_VERSION (default below), TK_FAKE_GCS_CACHE (default
# ~/.cache/trapperkeeper-deploy/fake-gcs-server-<version>).
set -euo pipefail

VERSION=${TK_FAKE_GCS_VERSION:-v1.56.1}
CACHE=${TK_FAKE_GCS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trapperkeeper-deploy/fake-gcs-server-$VERSION}
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fake-gcs: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [ -n "${TK_FAKE_GCS:-}" ]; then
  [ -x "$TK_FAKE_GCS" ] || { echo "fake-gcs: TK_FAKE_GCS=$TK_FAKE_GCS is not an executable file" >&2; exit 1; }
  echo "$TK_FAKE_GCS"; exit 0
fi
if [ -x "$CACHE/bin/fake-gcs-server" ]; then echo "$CACHE/bin/fake-gcs-server"; exit 0; fi
[ "$BUILD" = 1 ] || exit 1

command -v go >/dev/null 2>&1 || {
  echo "fake-gcs: no Go toolchain to build fake-gcs-server: install Go (Debian: apt-get install golang-go) or set TK_FAKE_GCS" >&2
  exit 1
}

echo "fake-gcs: building fake-gcs-server $VERSION from the Go module proxy into $CACHE (about 2 minutes, once)" >&2
mkdir -p "$CACHE/bin"
GOBIN="$CACHE/bin.partial" GOFLAGS=-mod=mod go install -ldflags "-s -w" "github.com/fsouza/fake-gcs-server@$VERSION" >&2
mv "$CACHE/bin.partial/fake-gcs-server" "$CACHE/bin/fake-gcs-server"
rmdir "$CACHE/bin.partial" 2>/dev/null || true
echo "$CACHE/bin/fake-gcs-server"
