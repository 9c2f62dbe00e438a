#!/usr/bin/env bash
# The ephemeral stack of a pull request, for .github/workflows/pr-stack.yml.
#
#   pr-stack.sh prepare <pr-number>   create the stack pr-<number> once (tagged ephemeral), write its config
#   pr-stack.sh up <pr-number>        prepare, then `tkctl up` (pulumi up, recorded; CI not awaited)
#   pr-stack.sh destroy <pr-number>   `pulumi destroy` then `pulumi stack rm`; nothing to do when it is gone
#
# The guard (refuse_unless_pr_stack) runs before anything touches a stack: the name must be
# pr-<digits>; the stack must carry the tag trapperkeeper:ephemeral=true, which only `prepare`
# sets, on a stack it created itself; and no committed Pulumi.<stack>.yaml may say otherwise. So a
# workflow can never deploy over, destroy or remove prod, staging or a maintainer's node stack,
# whatever number or label it is given.
#
# Environment: PR_STACKS_DOCKER_HOST (ssh://user@host of the engine PR stacks run on; required by
# prepare/up), PR_STACKS_BIND_ADDRESS (default 0.0.0.0), PR_STACKS_SECRET_SEED (required by
# prepare/up: the stack's database password and HMAC secret are derived from it and the stack name,
# so every run of the same PR sets the same ones without storing them anywhere), plus the Pulumi
# backend's own (PULUMI_ACCESS_TOKEN, or PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE).
# Nothing secret is printed: the derived values go to `pulumi config set --secret` on stdin.
set -euo pipefail

PULUMI=${TK_PULUMI_CLI:-pulumi}
TKCTL="$(dirname "${BASH_SOURCE[0]}")/../../tkctl/bin.mjs"
TAG=trapperkeeper:ephemeral

fail() { echo "pr-stack: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

stack_exists() { "$PULUMI" stack ls --json | node -e '
  let text = ""; process.stdin.on("data", (c) => (text += c)).on("end", () =>
    process.exit(JSON.parse(text).some((s) => s.name === process.argv[1] || s.name.endsWith("/" + process.argv[1])) ? 0 : 1));
' "$1"; }

stack_tag() { "$PULUMI" stack tag get "$TAG" --stack "$1" 2>/dev/null || true; }

refuse_unless_pr_stack() {
  local stack=$1 file="Pulumi.$1.yaml"
  [[ $stack =~ ^pr-[1-9][0-9]{0,8}$ ]] || fail "refusing $stack: a workflow only touches stacks named pr-<number>"
  if [ -f "$file" ] && ! grep -Eq '^[[:space:]]*trapperkeeper:ephemeral:[[:space:]]*"?true"?[[:space:]]*$' "$file"; then
    fail "refusing $stack: $file exists without trapperkeeper:ephemeral: true, so it is not a PR stack (a committed stack file marks a long-lived stack)"
  fi
  if stack_exists "$stack" && [ "$(stack_tag "$stack")" != true ]; then
    fail "refusing $stack: it exists without the tag $TAG=true that this script sets on the stacks it creates; destroy it by hand if it is really a PR stack: pulumi destroy --stack $stack && pulumi stack rm $stack"
  fi
}

# base64/hex material from HMAC-SHA256(seed, "<stack>/<purpose>"); the seed is read from the environment, never argv.
# shellcheck disable=SC2016 # JavaScript, not shell, inside the quotes
derive() { node -e '
  const { createHmac } = require("node:crypto");
  const mac = (purpose) => createHmac("sha256", process.env.PR_STACKS_SECRET_SEED).update(`${process.argv[1]}/${purpose}`).digest();
  process.stdout.write(process.argv[2] === "postgres"
    ? mac("postgres").toString("base64url")
    : `${mac("hmac-id").toString("hex").slice(0, 32)}:${mac("hmac-secret").toString("base64")}`);
' "$1" "$2"; }

prepare() {
  local stack=$1 number=$2
  [ -n "${PR_STACKS_DOCKER_HOST:-}" ] || fail "PR_STACKS_DOCKER_HOST is not set: the ssh://user@host of the Docker engine PR stacks run on (a repository variable)"
  [ -n "${PR_STACKS_SECRET_SEED:-}" ] || fail "PR_STACKS_SECRET_SEED is not set: a repository secret (e.g. openssl rand -base64 32) the PR stacks' secrets are derived from"
  if ! stack_exists "$stack"; then
    "$PULUMI" stack init "$stack" >&2
    "$PULUMI" stack tag set "$TAG" true --stack "$stack"
  fi
  # One stack per PR on one engine: ports from the PR number, so two PR stacks never share one.
  local http=$((20000 + number % 10000)) grpc=$((30000 + number % 10000))
  "$PULUMI" config set --stack "$stack" provider docker
  "$PULUMI" config set --stack "$stack" ephemeral true
  "$PULUMI" config set --stack "$stack" --path docker.host "$PR_STACKS_DOCKER_HOST"
  "$PULUMI" config set --stack "$stack" --path docker.bindAddress "${PR_STACKS_BIND_ADDRESS:-0.0.0.0}"
  "$PULUMI" config set --stack "$stack" --path docker.ports.http "$http"
  "$PULUMI" config set --stack "$stack" --path docker.ports.grpc "$grpc"
  derive "$stack" postgres | "$PULUMI" config set --stack "$stack" --secret postgresPassword
  derive "$stack" hmac | "$PULUMI" config set --stack "$stack" --secret hmacSecret
  echo "pr-stack: $stack ready (http port $http, grpc port $grpc on $PR_STACKS_DOCKER_HOST)" >&2
}

command=${1:-}
case "$command" in
  -h | --help) usage; exit 0 ;;
  prepare | up | destroy) ;;
  *) usage >&2; exit 2 ;;
esac
number=${2:-}
[[ $number =~ ^[1-9][0-9]{0,8}$ ]] || fail "the PR number must be a positive integer, got '${number}'"
stack="pr-$number"
refuse_unless_pr_stack "$stack"

case "$command" in
  prepare) prepare "$stack" "$number" ;;
  up)
    prepare "$stack" "$number"
    # A preview is deployed on every push, without waiting for pr.yml's tests of the same commit:
    # tkctl up's CI gate is passed over, with the reason recorded in the deployment history.
    TK_PULUMI_CLI=$(command -v "$PULUMI") node "$TKCTL" up --stack "$stack" \
      --ignore-ci "PR preview pr-$number: deployed on push; pr.yml runs the tests of this commit"
    ;;
  destroy)
    if ! stack_exists "$stack"; then echo "pr-stack: $stack does not exist; nothing to destroy" >&2; exit 0; fi
    "$PULUMI" destroy --yes --non-interactive --stack "$stack"
    "$PULUMI" stack rm --yes "$stack"
    ;;
esac
