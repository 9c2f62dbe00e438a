#!/usr/bin/env bash
# Prints the long-lived stacks a change affects, one per line, for `pulumi preview` on a PR:
#   affected-stacks.sh <base-ref>
# The long-lived stacks are the committed Pulumi.<stack>.yaml files except dev (a workstation's
# stack) and pr-* (the ephemeral ones). A change to Pulumi.<stack>.yaml affects that stack; a
# change to anything that is deployed (the program, launcher/, providers/, components/, app/, migrations/,
# images/, package files, Pulumi.yaml) affects every one; docs, tests, benchmarks and CI files
# affect none. Compared with the merge base of <base-ref> and HEAD, like `git diff <base>...HEAD`.
set -euo pipefail
base=${1:?usage: affected-stacks.sh <base-ref>}

stacks=$(git ls-files 'Pulumi.*.yaml' | sed -n 's/^Pulumi\.\(.*\)\.yaml$/\1/p' | grep -Ev '^(dev|pr-[0-9]+)$' || true)
changed=$(git diff --name-only "$base"...HEAD)

all=0
declare -A own=()
while IFS= read -r file; do
  [ -n "$file" ] || continue
  case "$file" in
    Pulumi.*.yaml) stack=${file#Pulumi.}; own[${stack%.yaml}]=1 ;;
    *.md | docs/* | test/* | bench/* | app/test/* | app/bench/* | .github/* | .ci/* | scripts/actionlint.sh | *.test.ts) ;;
    *) all=1 ;;
  esac
done <<<"$changed"

for stack in $stacks; do
  if [ "$all" = 1 ] || [ -n "${own[$stack]:-}" ]; then echo "$stack"; fi
done
