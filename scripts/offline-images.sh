#!/usr/bin/env bash
# Builds local stand-ins for the public base images our tooling uses, for tests on machines that
# cannot reach an image registry (Docker Hub etc.) but do reach Debian's apt mirrors and the npm
# registry. Real deployments keep pulling the official images; only test config names these.
#
#   tk-offline/debian:bookworm   minimal Debian bookworm root filesystem (debootstrap, imported)
#   tk-offline/node:20           stands in for node:20-bookworm-slim (the host's Node 20 + npm)
#   tk-offline/node:20-build     stands in for node:20-bookworm (adds python3, make, g++, headers)
#   tk-offline/postgres:15       stands in for postgres:15 (Debian's PostgreSQL 15)
#   tk-offline/caddy:2           stands in for caddy:2 (Caddy v2.10.2 built from the Go module proxy:
#                                the official image's 2.10 line, not Debian's 2.6, whose certificate
#                                cache is emptied on every config change)
#   tk-offline/prometheus:v2.42.0, tk-offline/alertmanager:v0.25.0, tk-offline/node-exporter:v1.5.0,
#   tk-offline/postgres-exporter:v0.11.1
#                                stand in for the monitoring images (Debian's prometheus packages)
#
# Starts a Docker engine first when none answers (installs docker.io when needed; root only) and
# leaves it running. An image whose inputs (its images/<name>/ files, base image, host Node
# version, ...) have not changed is kept; --rebuild builds everything again. Every image built in
# this run gets a smoke check; --check checks all of them, --no-check none.
#
# Usage: scripts/offline-images.sh [--rebuild] [--check | --no-check]
#        scripts/offline-images.sh --print-build-args
#   --print-build-args  prints the `docker build` arguments that build app/Dockerfile on these
#                       images here: docker build $(scripts/offline-images.sh --print-build-args) \
#                         -f app/Dockerfile -t trapperkeeper:test .
#
# Environment: TK_OFFLINE_PREFIX (default tk-offline), TK_DEBIAN_MIRROR (default: the mirror
# apt uses on this host), TK_DOCKERD_LOG (default /var/log/tk-dockerd.log), TK_DOCKERD_ARGS
# (extra dockerd options), TK_OFFLINE_LOG_DIR (build logs, default /tmp/tk-offline-images).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES_DIR="$REPO_ROOT/images"
PREFIX=${TK_OFFLINE_PREFIX:-tk-offline}
SUITE=bookworm
BASE_TAG="$PREFIX/debian:$SUITE"
NODE_TAG="$PREFIX/node:20"
NODE_BUILD_TAG="$PREFIX/node:20-build"
POSTGRES_TAG="$PREFIX/postgres:15"
CADDY_TAG="$PREFIX/caddy:2"
CADDY_VERSION=${TK_OFFLINE_CADDY_VERSION:-v2.10.2}
CADDY_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/trapperkeeper-deploy/caddy-$CADDY_VERSION
# target of images/prometheus/Dockerfile -> tag
MONITORING_TAGS=(
  "prometheus=$PREFIX/prometheus:v2.42.0"
  "alertmanager=$PREFIX/alertmanager:v0.25.0"
  "node-exporter=$PREFIX/node-exporter:v1.5.0"
  "postgres-exporter=$PREFIX/postgres-exporter:v0.11.1"
)
INPUTS_LABEL=org.trapperkeeper.offline.inputs
DOCKERD_LOG=${TK_DOCKERD_LOG:-/var/log/tk-dockerd.log}
LOG_DIR=${TK_OFFLINE_LOG_DIR:-/tmp/tk-offline-images}
LOCK_FILE=/tmp/tk-offline-images.lock

REBUILD=0
CHECK=built # built | all | none
PRINT_BUILD_ARGS=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    --check) CHECK=all ;;
    --no-check) CHECK=none ;;
    --print-build-args) PRINT_BUILD_ARGS=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "offline-images: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

fail() {
  echo "offline-images: error: $*" >&2
  exit 1
}
say() { echo "offline-images: $*"; }
trap 'echo "offline-images: error: command failed (line $LINENO): $BASH_COMMAND" >&2' ERR

CLEANUP_CONTAINERS=()
CLEANUP_DIRS=()
cleanup() {
  local c d
  for c in "${CLEANUP_CONTAINERS[@]}"; do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
  for d in "${CLEANUP_DIRS[@]}"; do
    # debootstrap mounts proc/sys inside its target while it runs; never rm through a mount.
    if awk -v d="$d" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
      awk -v d="$d" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l || true
    fi
    case "$d" in /var/tmp/tk-offline.* | /tmp/tk-offline.*) rm -rf "$d" ;; esac
  done
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Where apt gets Debian from on this host, and which registry hosts containers must be told about.

# The first URI of apt's sources (deb822 .sources or one-line .list) whose path ends in $1.
apt_source_uri() {
  local suffix=$1
  {
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break } }'
  } | sed 's:/*$::' | grep -E "/$suffix\$" | head -n 1 || true
}

MIRROR=${TK_DEBIAN_MIRROR:-$(apt_source_uri debian)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=$(apt_source_uri debian-security)

uri_host() { sed -E 's#^[a-z]+://([^/:]+).*#\1#' <<<"$1"; }

npm_registry_host() {
  local registry=https://registry.npmjs.org/
  if command -v npm >/dev/null 2>&1; then registry=$(npm config get registry 2>/dev/null || echo "$registry"); fi
  uri_host "$registry"
}

# Containers get Docker's DNS, not the host's /etc/hosts. Where the host pins a registry's name
# there (a local mirror or egress proxy), builds must pin it too, or apt and npm cannot connect.
ADD_HOST_ARGS=()
for name in $(printf '%s\n' "$(uri_host "$MIRROR")" "${SECURITY_MIRROR:+$(uri_host "$SECURITY_MIRROR")}" "$(npm_registry_host)" | sort -u); do
  [ -n "$name" ] || continue
  addr=$(awk -v n="$name" '$1 !~ /^#/ { for (i = 2; i <= NF; i++) if ($i == n) { print $1; exit } }' /etc/hosts)
  if [ -n "$addr" ]; then ADD_HOST_ARGS+=(--add-host "$name:$addr"); fi
done

if [ "$PRINT_BUILD_ARGS" = 1 ]; then
  echo "${ADD_HOST_ARGS[*]} --build-arg BUILD_IMAGE=$NODE_BUILD_TAG --build-arg RUNTIME_IMAGE=$NODE_TAG"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# The Docker engine.

start_dockerd() {
  [ "$(id -u)" = 0 ] || fail "no Docker engine answers, and starting one needs root (sudo $0)"
  if ! command -v dockerd >/dev/null 2>&1; then
    say "installing docker.io (Debian's Docker engine)"
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null || fail "apt-get install docker.io failed"
  fi
  command -v docker >/dev/null 2>&1 || fail "the docker client is missing after installing docker.io"

  # Tested here (Debian 12 userland, kernel 6.18, cgroup v1, ext4 root): dockerd's defaults work
  # as they are: overlay2 storage, its own iptables NAT rules and the docker0 bridge.
  # Overlay on overlay does not work, so on an overlayfs root fall back to the vfs driver.
  local args=()
  if [ "$(stat -f -c %T /var/lib 2>/dev/null || true)" = overlayfs ]; then args+=(--storage-driver=vfs); fi
  local extra=()
  read -r -a extra <<<"${TK_DOCKERD_ARGS:-}"
  # A pid file left by a dockerd that died (a restarted machine keeps /var/run) blocks a start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  say "starting dockerd ${args[*]} ${extra[*]} (log: $DOCKERD_LOG)"
  # setsid: dockerd outlives this script and the terminal that started it. 9>&-: it must not
  # inherit this script's lock, or every later run would wait for dockerd to exit.
  setsid dockerd "${args[@]}" "${extra[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  local pid=$!
  local i
  for i in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      say "dockerd is up (pid $pid)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DOCKERD_LOG" >&2
      fail "dockerd exited during start-up; its log is $DOCKERD_LOG"
    fi
    sleep 1
  done
  fail "dockerd did not answer within 60 s; its log is $DOCKERD_LOG"
}

ensure_docker() {
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then return 0; fi
  # A dockerd that is still starting answers soon; give it that chance before starting another.
  if pgrep -x dockerd >/dev/null 2>&1; then
    local i
    for i in $(seq 1 30); do
      docker info >/dev/null 2>&1 && return 0
      sleep 1
    done
    fail "a dockerd process runs but does not answer; see its log ($DOCKERD_LOG or wherever it was started)"
  fi
  start_dockerd
}

# ---------------------------------------------------------------------------------------------
# Caching: each image carries a hash of what it was built from.

image_inputs() { docker image inspect -f "{{ index .Config.Labels \"$INPUTS_LABEL\" }}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect -f '{{ .Id }}' "$1"; }

# Hash of the files under a folder (names and contents) plus any extra strings.
inputs_hash() {
  local dir=$1
  shift
  {
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-24
}

needs_build() {
  local tag=$1 hash=$2
  [ "$REBUILD" = 1 ] && return 0
  [ "$(image_inputs "$tag")" != "$hash" ]
}

BUILT=()
SKIPPED=()
SUMMARY=()
REPLACED=()
remember_old() { # tag: the image a rebuild is about to untag
  local id
  id=$(docker image inspect -f '{{ .Id }}' "$1" 2>/dev/null || true)
  if [ -n "$id" ]; then REPLACED+=("$id"); fi
}
# Removes the images this run untagged, newest first (children before their base). One still
# used by a container or by an image built on it stays; nothing else is touched, so the build
# cache of images built on these bases survives.
remove_replaced() {
  local i id
  for ((i = ${#REPLACED[@]} - 1; i >= 0; i--)); do
    id=${REPLACED[i]}
    if [ -z "$(docker image inspect -f '{{ join .RepoTags "" }}' "$id" 2>/dev/null || echo tagged)" ]; then
      docker image rm "$id" >/dev/null 2>&1 || true
    fi
  done
}
record() { # tag seconds
  BUILT+=("$1")
  SUMMARY+=("$(printf '  built %-28s %4ss  %s' "$1" "$2" "$(image_size "$1")")")
}
image_size() { docker image inspect -f '{{ .Size }}' "$1" | awk '{ printf "%.0f MB", $1 / 1000000 }'; }

# docker build with its output in a log file; the tail of the log on failure.
docker_build() { # name, then docker build arguments
  local name=$1
  shift
  local log="$LOG_DIR/$name.log"
  # --force-rm: a failed step leaves no stopped container behind.
  if ! docker build --force-rm "${ADD_HOST_ARGS[@]}" "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    fail "docker build of $name failed; full log: $log"
  fi
}

# ---------------------------------------------------------------------------------------------
# tk-offline/debian:bookworm

# Trims a fresh debootstrap tree the way Debian's own slim container images are trimmed.
prepare_rootfs() {
  local root=$1
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$SUITE" "$SUITE"
    if [ -n "$SECURITY_MIRROR" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$SECURITY_MIRROR" "$SUITE"
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"

  # Images keep no package caches, no translations, no docs or man pages (copyrights stay).
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/groff/* "$root"/usr/share/lintian/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

  # No service starts during `apt-get install` in a build (postinst scripts ask policy-rc.d).
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"

  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin
  find "$root/var/log" -type f -exec truncate -s 0 {} +
  # Docker supplies these at run time.
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  : >"$root/etc/machine-id"
  find "$root/dev" -mindepth 1 -delete
}

build_base() {
  local hash
  # Its inputs: the suite, the mirrors and the recipe that trims the tree.
  hash=$(printf '%s\n' "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$(declare -f prepare_rootfs)" | sha256sum | cut -c1-24)
  if ! needs_build "$BASE_TAG" "$hash"; then SKIPPED+=("$BASE_TAG"); return 0; fi

  [ "$(id -u)" = 0 ] || fail "debootstrap needs root to build $BASE_TAG"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    apt-get update -qq || fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || fail "apt-get install debootstrap failed"
  fi
  say "building $BASE_TAG: debootstrap --variant=minbase $SUITE from $MIRROR"
  remember_old "$BASE_TAG"
  local start=$SECONDS root
  root=$(mktemp -d /var/tmp/tk-offline.rootfs.XXXXXX)
  CLEANUP_DIRS+=("$root")
  if ! debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$LOG_DIR/debootstrap.log" 2>&1; then
    tail -n 30 "$LOG_DIR/debootstrap.log" >&2
    fail "debootstrap failed; full log: $LOG_DIR/debootstrap.log"
  fi
  prepare_rootfs "$root"
  tar --numeric-owner --xattrs -C "$root" -c . |
    docker import \
      --change 'CMD ["bash"]' \
      --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "LABEL $INPUTS_LABEL=$hash" \
      --message "debootstrap --variant=minbase $SUITE $MIRROR" \
      - "$BASE_TAG" >/dev/null ||
    fail "docker import of the $SUITE root filesystem failed"
  rm -rf "$root"
  record "$BASE_TAG" $((SECONDS - start))
}

# ---------------------------------------------------------------------------------------------
# tk-offline/node:20 and :20-build

build_node() {
  local node_bin npm_dir node_version npm_version
  node_bin=$(command -v node) || fail "no node on this host: the node images copy the host's Node 20"
  node_bin=$(readlink -f "$node_bin")
  node_version=$("$node_bin" --version)
  case "$node_version" in v20.*) ;; *) fail "the host's node is $node_version; the node:20 stand-in needs Node 20" ;; esac
  local prefix
  prefix=$(dirname "$(dirname "$node_bin")") # /usr for /usr/bin/node
  npm_dir="$prefix/lib/node_modules/npm"
  [ -f "$npm_dir/bin/npm-cli.js" ] || fail "npm not found at $npm_dir"
  [ -f "$prefix/include/node/node_api.h" ] || fail "Node's headers not found at $prefix/include/node (node-gyp needs them in the build image)"
  npm_version=$(node -p "require('$npm_dir/package.json').version")
  local ca_hash
  ca_hash=$(find /usr/local/share/ca-certificates -type f -name '*.crt' -print0 2>/dev/null | sort -z | xargs -0 -r cat | sha256sum | cut -c1-16)

  local hash
  hash=$(inputs_hash "$IMAGES_DIR/node" "$(image_id "$BASE_TAG")" "$node_version" "$npm_version" "$ca_hash")
  local targets=()
  if needs_build "$NODE_TAG" "$hash"; then targets+=(runtime); else SKIPPED+=("$NODE_TAG"); fi
  if needs_build "$NODE_BUILD_TAG" "$hash"; then targets+=(build); else SKIPPED+=("$NODE_BUILD_TAG"); fi
  [ "${#targets[@]}" -gt 0 ] || return 0

  local ctx
  ctx=$(mktemp -d /tmp/tk-offline.node.XXXXXX)
  CLEANUP_DIRS+=("$ctx")
  cp "$IMAGES_DIR/node/Dockerfile" "$IMAGES_DIR/node/docker-entrypoint.sh" "$ctx/"
  mkdir -p "$ctx/node/bin" "$ctx/node/lib/node_modules" "$ctx/node/include" "$ctx/ca"
  cp "$node_bin" "$ctx/node/bin/node"
  cp -a "$npm_dir" "$ctx/node/lib/node_modules/npm"
  if [ -d "$prefix/lib/node_modules/corepack" ]; then cp -a "$prefix/lib/node_modules/corepack" "$ctx/node/lib/node_modules/"; fi
  cp -a "$prefix/include/node" "$ctx/node/include/node"
  if [ -d /usr/local/share/ca-certificates ]; then
    find /usr/local/share/ca-certificates -type f -name '*.crt' -exec cp {} "$ctx/ca/" \;
  fi

  local target tag start
  for target in "${targets[@]}"; do
    if [ "$target" = runtime ]; then tag=$NODE_TAG; else tag=$NODE_BUILD_TAG; fi
    say "building $tag (Node $node_version, npm $npm_version)"
    remember_old "$tag"
    start=$SECONDS
    docker_build "node-$target" --target "$target" \
      --build-arg BASE_IMAGE="$BASE_TAG" --build-arg NODE_VERSION="${node_version#v}" \
      --label "$INPUTS_LABEL=$hash" -t "$tag" "$ctx"
    record "$tag" $((SECONDS - start))
  done
  rm -rf "$ctx"
}

# ---------------------------------------------------------------------------------------------
# tk-offline/postgres:15: a plain build of images/postgres/.

build_plain() { # name tag
  local name=$1 tag=$2 hash start
  hash=$(inputs_hash "$IMAGES_DIR/$name" "$(image_id "$BASE_TAG")")
  if ! needs_build "$tag" "$hash"; then SKIPPED+=("$tag"); return 0; fi
  say "building $tag"
  remember_old "$tag"
  start=$SECONDS
  docker_build "$name" --build-arg BASE_IMAGE="$BASE_TAG" --label "$INPUTS_LABEL=$hash" -t "$tag" "$IMAGES_DIR/$name"
  record "$tag" $((SECONDS - start))
}

# ---------------------------------------------------------------------------------------------
# tk-offline/caddy:2: images/caddy/ with a Caddy binary built from the Go module proxy (cached;
# about 3 minutes on 2 cores, once). Debian's caddy package is 2.6, which drops its certificate
# cache on every config change (each routing switch) and can fail TLS handshakes meanwhile;
# caddy:2 users run 2.10, which keeps it.

caddy_binary() {
  if [ ! -x "$CADDY_CACHE/bin/caddy" ]; then
    command -v go >/dev/null 2>&1 || fail "no Go toolchain to build Caddy $CADDY_VERSION for $CADDY_TAG: install Go (Debian: apt-get install golang-go)"
    say "building Caddy $CADDY_VERSION from the Go module proxy into $CADDY_CACHE (about 3 minutes, once)" >&2
    rm -rf "$CADDY_CACHE/bin.partial"
    GOBIN="$CADDY_CACHE/bin.partial" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath \
      -ldflags "-s -w -X github.com/caddyserver/caddy/v2.CustomVersion=$CADDY_VERSION" \
      "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY_VERSION" >"$LOG_DIR/caddy-go-build.log" 2>&1 ||
      { tail -n 40 "$LOG_DIR/caddy-go-build.log" >&2; fail "go install of Caddy $CADDY_VERSION failed; full log: $LOG_DIR/caddy-go-build.log"; }
    mkdir -p "$CADDY_CACHE/bin"
    mv "$CADDY_CACHE/bin.partial/caddy" "$CADDY_CACHE/bin/caddy"
    rm -rf "$CADDY_CACHE/bin.partial"
  fi
  echo "$CADDY_CACHE/bin/caddy"
}

build_caddy() {
  local binary hash start ctx
  binary=$(caddy_binary)
  hash=$(inputs_hash "$IMAGES_DIR/caddy" "$(image_id "$BASE_TAG")" "caddy $CADDY_VERSION")
  if ! needs_build "$CADDY_TAG" "$hash"; then SKIPPED+=("$CADDY_TAG"); return 0; fi
  say "building $CADDY_TAG (Caddy $CADDY_VERSION)"
  remember_old "$CADDY_TAG"
  start=$SECONDS
  ctx=$(mktemp -d)
  CLEANUP_DIRS+=("$ctx")
  cp -r "$IMAGES_DIR/caddy/." "$ctx/"
  cp "$binary" "$ctx/caddy"
  docker_build caddy --build-arg BASE_IMAGE="$BASE_TAG" --label "$INPUTS_LABEL=$hash" -t "$CADDY_TAG" "$ctx"
  rm -rf "$ctx"
  record "$CADDY_TAG" $((SECONDS - start))
}

# ---------------------------------------------------------------------------------------------
# The monitoring stand-ins: one Dockerfile, a target per image.

build_monitoring() {
  local hash entry target tag start
  hash=$(inputs_hash "$IMAGES_DIR/prometheus" "$(image_id "$BASE_TAG")")
  for entry in "${MONITORING_TAGS[@]}"; do
    target=${entry%%=*}
    tag=${entry#*=}
    if ! needs_build "$tag" "$hash"; then SKIPPED+=("$tag"); continue; fi
    say "building $tag"
    remember_old "$tag"
    start=$SECONDS
    docker_build "$target" --target "$target" --build-arg BASE_IMAGE="$BASE_TAG" --label "$INPUTS_LABEL=$hash" -t "$tag" "$IMAGES_DIR/prometheus"
    record "$tag" $((SECONDS - start))
  done
}

# ---------------------------------------------------------------------------------------------
# Smoke checks. Published ports are bound to 127.0.0.1 only; nothing is sent anywhere else.

check_name() { echo "tk-offline-check-$1-$$"; }

expect() { # description, actual, expected (substring)
  case "$2" in
    *"$3"*) ;;
    *) fail "check failed: $1: expected '$3', got '$2'" ;;
  esac
}

published_port() { # container, container port
  docker port "$1" "$2/tcp" | awk -F: 'NR == 1 { print $NF }'
}

http_get() { # url -> body
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 3 "$1"
  else
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(3000) }).then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); }, () => process.exit(1))' "$1"
  fi
}

check_node() {
  local out
  out=$(docker run --rm "$NODE_TAG" node --version) || fail "check failed: node --version in $NODE_TAG"
  expect "$NODE_TAG node --version" "$out" "$(node --version)"
  out=$(docker run --rm -w /tmp "$NODE_TAG" sh -c 'npm --version && npx --version && id -u node && id -g node && echo "$PWD"') ||
    fail "check failed: npm/npx/node user in $NODE_TAG"
  expect "$NODE_TAG npm, npx, uid and gid of node" "$(tr '\n' ' ' <<<"$out")" " 1000 1000 /tmp"
  out=$(docker run --rm -u node "$NODE_TAG" -e 'console.log(require("os").userInfo().username, 6 * 7)') ||
    fail "check failed: the entrypoint of $NODE_TAG runs node for an option"
  expect "$NODE_TAG runs node -e as the node user" "$out" "node 42"
  say "checked $NODE_TAG: node $(node --version), npm, npx, user node (1000)"
}

check_node_build() {
  local out
  out=$(docker run --rm "$NODE_BUILD_TAG" sh -c '
    set -e
    python3 --version; make --version | head -n 1
    printf "#include <node_api.h>\nint main() { return NAPI_VERSION > 0 ? 0 : 1; }\n" > /tmp/t.cc
    g++ -I"$npm_config_nodedir/include/node" -o /tmp/t /tmp/t.cc && /tmp/t && echo compiled-against-node-headers') ||
    fail "check failed: python3, make, g++ and Node's headers in $NODE_BUILD_TAG"
  expect "$NODE_BUILD_TAG toolchain" "$out" compiled-against-node-headers
  say "checked $NODE_BUILD_TAG: python3, make, g++ with Node's headers"
}

check_postgres() {
  local name password port i out
  name=$(check_name postgres)
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  CLEANUP_CONTAINERS+=("$name")
  # The password goes through the environment, never a command line.
  POSTGRES_PASSWORD=$password docker run -d --name "$name" -e POSTGRES_PASSWORD -e POSTGRES_DB=tkcheck \
    -p 127.0.0.1::5432 "$POSTGRES_TAG" >/dev/null || fail "check failed: could not start $POSTGRES_TAG"
  port=$(published_port "$name" 5432)
  [ -n "$port" ] || fail "check failed: $POSTGRES_TAG published no port"

  # psql from the host when it has one, otherwise from the image on the host's network.
  psql_at() { # password, sql
    if command -v psql >/dev/null 2>&1; then
      PGPASSWORD=$1 PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p "$port" -U postgres -d tkcheck -X -A -t -v ON_ERROR_STOP=1 -c "$2" 2>&1
    else
      PGPASSWORD=$1 docker run --rm --network host -e PGPASSWORD -e PGCONNECT_TIMEOUT=3 "$POSTGRES_TAG" \
        psql -h 127.0.0.1 -p "$port" -U postgres -d tkcheck -X -A -t -v ON_ERROR_STOP=1 -c "$2" 2>&1
    fi
  }
  for i in $(seq 1 60); do
    if out=$(psql_at "$password" 'select current_database(), current_user, version()'); then break; fi
    [ "$(docker inspect -f '{{ .State.Running }}' "$name")" = true ] ||
      { docker logs "$name" 2>&1 | tail -n 20 >&2; fail "check failed: $POSTGRES_TAG exited"; }
    [ "$i" = 60 ] && { docker logs "$name" 2>&1 | tail -n 20 >&2; fail "check failed: $POSTGRES_TAG did not accept a connection within 30 s: $out"; }
    sleep 0.5
  done
  expect "$POSTGRES_TAG database, user and version over 127.0.0.1:$port" "$out" "tkcheck|postgres|PostgreSQL 15."
  if out=$(psql_at "wrong-$password" 'select 1'); then fail "check failed: $POSTGRES_TAG accepted a wrong password"; fi
  expect "$POSTGRES_TAG refuses a wrong password" "$out" "password authentication failed"
  out=$(docker exec "$name" sh -c 'pg_dump --version && pg_restore --version && psql --version && pg_isready -q && echo ready') ||
    fail "check failed: client tools in $POSTGRES_TAG"
  expect "$POSTGRES_TAG client tools" "$out" ready
  out=$(docker exec "$name" awk '/^Uid:/ { print $2 }' /proc/1/status) || fail "check failed: reading PID 1 in $POSTGRES_TAG"
  [ "$out" = 999 ] || fail "check failed: PostgreSQL in $POSTGRES_TAG runs as uid $out, not postgres (999)"

  docker stop -t 30 "$name" >/dev/null || fail "check failed: docker stop $name"
  out=$(docker inspect -f '{{ .State.ExitCode }}' "$name")
  [ "$out" = 0 ] || fail "check failed: $POSTGRES_TAG exited with $out on docker stop"
  out=$(docker logs "$name" 2>&1 | tail -n 3)
  expect "$POSTGRES_TAG shuts down cleanly" "$out" "database system is shut down"
  docker rm -v "$name" >/dev/null
  say "checked $POSTGRES_TAG: initdb, password auth over 127.0.0.1:$port, client tools, clean stop"
}

check_caddy() {
  local name port i out=''
  name=$(check_name caddy)
  CLEANUP_CONTAINERS+=("$name")
  docker run -d --name "$name" -p 127.0.0.1::80 "$CADDY_TAG" >/dev/null || fail "check failed: could not start $CADDY_TAG"
  port=$(published_port "$name" 80)
  [ -n "$port" ] || fail "check failed: $CADDY_TAG published no port"
  for i in $(seq 1 40); do
    if out=$(http_get "http://127.0.0.1:$port/" 2>&1); then break; fi
    [ "$i" = 40 ] && { docker logs "$name" 2>&1 | tail -n 20 >&2; fail "check failed: $CADDY_TAG did not answer on 127.0.0.1:$port: $out"; }
    sleep 0.5
  done
  expect "$CADDY_TAG default page on 127.0.0.1:$port" "$out" "Caddy works"
  # `caddy reload` posts the config to the admin API at localhost:2019 inside the container.
  docker exec "$name" caddy reload --config /etc/caddy/Caddyfile --adapter caddyfile >/dev/null 2>&1 ||
    fail "check failed: the admin API of $CADDY_TAG (caddy reload) did not answer"
  docker exec "$name" sh -c 'test -d /data/caddy && test -d /config/caddy' || fail "check failed: /data or /config missing in $CADDY_TAG"
  docker stop -t 10 "$name" >/dev/null
  docker rm -v "$name" >/dev/null
  say "checked $CADDY_TAG: default site on 127.0.0.1:$port, admin API, /data and /config"
}

check_monitoring() { # tag: its binary answers --version, as nobody, from its ENTRYPOINT
  local tag=$1 version user
  version=$(docker run --rm "$tag" --version 2>&1) || fail "check failed: $tag --version: $version"
  expect "$tag --version" "$version" "version"
  user=$(docker run --rm --entrypoint id "$tag" -un) || fail "check failed: id in $tag"
  expect "$tag runs as nobody" "$user" nobody
  say "checked $tag: $(head -n 1 <<<"$version"), user $user"
}

should_check() { # tag
  case "$CHECK" in
    all) return 0 ;;
    none) return 1 ;;
  esac
  local t
  for t in "${BUILT[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}

# ---------------------------------------------------------------------------------------------

main() {
  mkdir -p "$LOG_DIR"
  # Parallel runs (several test suites) wait for each other instead of building the same image.
  exec 9>"$LOCK_FILE"
  flock 9

  ensure_docker
  local start=$SECONDS
  build_base
  build_node
  build_plain postgres "$POSTGRES_TAG"
  build_caddy
  build_monitoring

  if [ "${#BUILT[@]}" -eq 0 ]; then
    say "all images up to date (${SKIPPED[*]}); --rebuild to build them again"
  else
    say "built in this run:"
    printf '%s\n' "${SUMMARY[@]}"
    [ "${#SKIPPED[@]}" -eq 0 ] || say "up to date, kept: ${SKIPPED[*]}"
    remove_replaced
  fi

  should_check "$NODE_TAG" && check_node
  should_check "$NODE_BUILD_TAG" && check_node_build
  should_check "$POSTGRES_TAG" && check_postgres
  should_check "$CADDY_TAG" && check_caddy
  local entry
  for entry in "${MONITORING_TAGS[@]}"; do
    if should_check "${entry#*=}"; then check_monitoring "${entry#*=}"; fi
  done
  say "done in $((SECONDS - start)) s"
}

main
