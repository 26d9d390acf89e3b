#!/bin/sh
# Installs Debian's rabbitmq-server for the tests' private brokers (libs/testing/src/rabbitmq.ts) when absent.
# Idempotent and quiet. The package's own service start fails without systemd; that is expected and harmless:
# tests start their own nodes and never use the stock one.
set -eu
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && [ -x /usr/lib/rabbitmq/bin/rabbitmqctl ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# policy-rc.d would be tidier, but the postinst's failure to start the service does not fail the install.
$SUDO apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null || {
  # A failed service start can leave the package half-configured; configure it again and carry on.
  $SUDO dpkg --configure -a >/dev/null 2>&1 || true
}
# Stop the stock node if the package managed to start one; the tests never use it.
$SUDO rabbitmqctl stop >/dev/null 2>&1 || true
test -x /usr/lib/rabbitmq/bin/rabbitmq-server
