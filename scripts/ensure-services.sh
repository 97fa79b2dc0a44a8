#!/usr/bin/env bash
# Start the local PostgreSQL server the tests use, if it is installed but stopped.
# On a laptop without PostgreSQL this does nothing: the PostgreSQL tests then skip
# (or fail under CI=true, where the server is mandatory).
set -euo pipefail

if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
