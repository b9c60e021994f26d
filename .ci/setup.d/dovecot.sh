#!/usr/bin/env bash
# Dovecot (IMAP and POP3) from Debian's packages for the imap4w and pop3w end-to-end tests.
# The tests write their own dovecot.conf into a temporary folder and run `dovecot -F -c` on
# free loopback ports, so the system service is never used: while apt installs, a
# policy-rc.d refuses every service start (101); the service is then disabled for boot, and
# a system dovecot that was not running before the install but runs after it (a service
# manager that ignored the policy) is stopped. Idempotent: nothing is done when both
# protocols' binaries are there.
set -euo pipefail
if [ -x /usr/sbin/dovecot ] \
  && [ -x /usr/lib/dovecot/imap-login ] && [ -x /usr/lib/dovecot/pop3-login ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive

# shellcheck source=/dev/null
. "$(dirname "$0")/../lib/no-services.sh"
refuse_service_starts ".ci/setup.d/dovecot.sh"

# System dovecots (not the tests' own, which run with -c) before the install.
system_dovecots() {
  for pid in $(pgrep -x dovecot || true); do
    if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- ' -c '; then
      echo "$pid"
    fi
  done
}
before=$(system_dovecots)

# Another installer may hold dpkg's lock for a while: wait for it rather than fail.
apt-get update -qq -o DPkg::Lock::Timeout=600
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends \
  dovecot-imapd dovecot-pop3d

# Not started at boot either.
if command -v deb-systemd-helper >/dev/null 2>&1; then
  deb-systemd-helper disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
fi
if command -v update-rc.d >/dev/null 2>&1; then
  update-rc.d dovecot disable >/dev/null 2>&1 || true
fi

# Stop only a dovecot the install started: one whose pid was not there before.
for pid in $(system_dovecots); do
  if ! grep -qx "$pid" <<<"$before"; then
    echo "dovecot.sh: the install started dovecot (pid $pid); stopping it" >&2
    kill -TERM "$pid" 2>/dev/null || true
  fi
done
