#!/bin/sh
# Like the official node image: an option (`-e 'code'`) or a script that is not a command on PATH
# (`app.js`) runs under node; anything else (`npm ci`, `bash`) runs as given.
set -e
if [ $# -eq 0 ]; then
  set -- node
elif [ "${1#-}" != "$1" ] || ! command -v -- "$1" >/dev/null 2>&1 || { [ -f "$1" ] && [ ! -x "$1" ]; }; then
  set -- node "$@"
fi
exec "$@"
