#!/usr/bin/env bash
# Prints the path of a Pulumi CLI (stdout), making one available first when needed:
#   1. $TK_PULUMI_CLI, when set;
#   2. a `pulumi` on PATH (how real users install it: https://www.pulumi.com/docs/install/);
#   3. a copy built earlier by this script, in the cache folder;
#   4. otherwise it builds the CLI from the Go module proxy (github.com/pulumi/pulumi/pkg/v3,
#      cmd/pulumi; about 5 minutes on 2 cores) into the cache folder.
# Step 4 is for machines that reach the Go module proxy but not Pulumi's downloads (CI here). It
# gives the CLI alone: the nodejs language host and the provider plugins are not in it.
#
# Usage: scripts/pulumi-cli.sh [--no-build]
#   --no-build  print nothing and exit 1 instead of building (tests use it to skip fast)
# Environment: TK_PULUMI_CLI, TK_PULUMI_VERSION (default below), TK_PULUMI_CACHE (default
# ~/.cache/trapperkeeper-deploy/pulumi-<version>).
set -euo pipefail

VERSION=${TK_PULUMI_VERSION:-v3.274.1}
CACHE=${TK_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trapperkeeper-deploy/pulumi-$VERSION}
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "pulumi-cli: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

if [ -n "${TK_PULUMI_CLI:-}" ]; then
  [ -x "$TK_PULUMI_CLI" ] || { echo "pulumi-cli: TK_PULUMI_CLI=$TK_PULUMI_CLI is not an executable file" >&2; exit 1; }
  echo "$TK_PULUMI_CLI"; exit 0
fi
if command -v pulumi >/dev/null 2>&1; then command -v pulumi; exit 0; fi
if [ -x "$CACHE/bin/pulumi" ]; then echo "$CACHE/bin/pulumi"; exit 0; fi
[ "$BUILD" = 1 ] || exit 1

command -v go >/dev/null 2>&1 || {
  echo "pulumi-cli: no pulumi on PATH and no Go toolchain to build one: install Pulumi (https://www.pulumi.com/docs/install/) or Go" >&2
  exit 1
}

# pkg/v3's go.mod replaces sdk/v3 with a relative path and atotto/clipboard with a fork, so
# `go install pkg/v3/cmd/pulumi@version` is refused. A wrapper module requires both at the same
# version and repeats the clipboard replace; the sdk replace is not needed once both are required.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "pulumi-cli: building the Pulumi CLI $VERSION from the Go module proxy into $CACHE (about 5 minutes)" >&2
cd "$work"
cat >go.mod <<EOF
module trapperkeeper.local/pulumi-cli

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 $VERSION
	github.com/pulumi/pulumi/sdk/v3 $VERSION
)
EOF
clipboard=$(GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/pkg/v3@$VERSION" \
  | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' | xargs grep -h '^replace github.com/atotto/clipboard' || true)
[ -n "$clipboard" ] && echo "$clipboard" >>go.mod
GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$VERSION" >&2
mkdir -p "$CACHE/bin"
GOFLAGS=-mod=mod go build -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION" \
  -o "$CACHE/bin/pulumi.partial" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
mv "$CACHE/bin/pulumi.partial" "$CACHE/bin/pulumi"
"$CACHE/bin/pulumi" version >&2
echo "$CACHE/bin/pulumi"
