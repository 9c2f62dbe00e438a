#!/usr/bin/env bash
# Gives ssh (and so the docker CLI and the Pulumi Docker provider, for ssh:// hosts) the deploy key
# and the hosts' keys, from DEPLOY_SSH_KEY and DEPLOY_SSH_KNOWN_HOSTS (CI secrets, passed in the
# environment). Writes files only; prints neither value. Host keys are checked: without
# DEPLOY_SSH_KNOWN_HOSTS the key is not installed (never StrictHostKeyChecking=no).
set -euo pipefail
if [ -z "${DEPLOY_SSH_KEY:-}" ]; then
  echo "ssh-setup: DEPLOY_SSH_KEY is not set; stacks on ssh:// Docker hosts will not be reachable" >&2
  exit 0
fi
[ -n "${DEPLOY_SSH_KNOWN_HOSTS:-}" ] || {
  echo "ssh-setup: DEPLOY_SSH_KNOWN_HOSTS is not set: add the hosts' keys as a secret (ssh-keyscan -t ed25519 <host>, checked against the host)" >&2
  exit 1
}
umask 077
mkdir -p ~/.ssh
printf '%s\n' "$DEPLOY_SSH_KEY" >~/.ssh/id_deploy
printf '%s\n' "$DEPLOY_SSH_KNOWN_HOSTS" >>~/.ssh/known_hosts
cat >>~/.ssh/config <<'CONFIG'
Host *
  IdentityFile ~/.ssh/id_deploy
  IdentitiesOnly yes
  StrictHostKeyChecking yes
CONFIG
echo "ssh-setup: deploy key and known hosts installed" >&2
