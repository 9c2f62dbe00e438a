#!/usr/bin/env bash
# moto (an AWS API emulator) in server mode, for the AWS target's tests (no cloud is reachable).
#
#   bash scripts/moto.sh install   installs moto[server] into its own virtualenv when missing (idempotent)
#                                  and prints the path of its moto_server
#   bash scripts/moto.sh start     also starts one on a free port of 127.0.0.1 and prints its URL
#                                  (stop it with: kill "$(cat "$TK_MOTO_DIR/moto.pid")")
#
# The tests start their own server per file (test/aws/moto.ts), through `install`.
set -euo pipefail

MOTO_VERSION="${TK_MOTO_VERSION:-5.2.5}"
TK_MOTO_DIR="${TK_MOTO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trapperkeeper/moto}"
VENV="$TK_MOTO_DIR/venv-$MOTO_VERSION"
SERVER="$VENV/bin/moto_server"

install_moto() {
  if [ -x "$SERVER" ] && "$VENV/bin/python" -c 'import flask, flask_cors, moto' 2>/dev/null; then
    return
  fi
  mkdir -p "$TK_MOTO_DIR"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
}

case "${1:-install}" in
  install)
    install_moto
    echo "$SERVER"
    ;;
  start)
    install_moto
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    "$SERVER" -H 127.0.0.1 -p "$port" >"$TK_MOTO_DIR/moto.log" 2>&1 &
    echo $! >"$TK_MOTO_DIR/moto.pid"
    for _ in $(seq 1 100); do
      if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "moto_server did not answer on 127.0.0.1:$port within 10 s; see $TK_MOTO_DIR/moto.log" >&2
    exit 1
    ;;
  *)
    echo "usage: bash scripts/moto.sh install|start" >&2
    exit 2
    ;;
esac
