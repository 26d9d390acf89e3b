#!/bin/sh
# Installs Debian's chromium for the dashboard's browser test (test/dashboard.e2e-spec.ts) when absent.
# playwright-core drives it; no browser is downloaded. Idempotent and quiet.
set -eu
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
