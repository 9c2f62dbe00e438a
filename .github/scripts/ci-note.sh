#!/usr/bin/env bash
# Records CI's result on a commit where `tkctl up` looks for it (tkctl/ci-status.ts): a git note
# under refs/notes/ci whose first line is the result, pushed to origin. Maintainers fetch it
# (git fetch origin refs/notes/ci:refs/notes/ci) and tkctl up then deploys that commit without
# --ignore-ci. For .github/workflows/deploy.yml, after the tests of every push to main or a tag.
#
#   ci-note.sh <result> <commit>    result: success, failure, cancelled, ... (the test job's result)
#
# Concurrent runs (two pushes close together) each add their own note: a rejected push fetches
# the notes again, re-adds this one on top and retries (5 times, backing off).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: ci-note.sh <result> <commit>" >&2; exit 2; }
result=$1
commit=$2
[[ $result =~ ^[a-z_]+$ ]] || { echo "ci-note: result must be a word like success or failure, got '$result'" >&2; exit 2; }
git rev-parse --verify --quiet "$commit^{commit}" >/dev/null || { echo "ci-note: $commit is not a commit of this checkout" >&2; exit 1; }

git config user.name >/dev/null || git config user.name 'github-actions[bot]'
git config user.email >/dev/null || git config user.email '41898282+github-actions[bot]@users.noreply.github.com'

for attempt in 1 2 3 4 5; do
  # The notes as origin has them now (none yet on a new repository), then this commit's on top.
  git fetch --quiet origin '+refs/notes/ci:refs/notes/ci' 2>/dev/null || git update-ref -d refs/notes/ci
  git notes --ref=ci add -f -m "$result" "$commit"
  if git push --quiet origin refs/notes/ci; then
    echo "ci-note: $commit is recorded as $result in refs/notes/ci"
    exit 0
  fi
  echo "ci-note: origin's refs/notes/ci moved (another run wrote a note); attempt $attempt, trying again" >&2
  sleep $((attempt * 2))
done
echo "ci-note: could not push refs/notes/ci after 5 attempts" >&2
exit 1
