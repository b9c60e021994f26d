#!/usr/bin/env bash
# The Python test servers of the application monitors' end-to-end tests: aiosmtpd (smtpw),
# pyftpdlib (ftpw) and pyOpenSSL (pyftpdlib's FTPS handler), in a venv at target/ci-venv.
# The tests start the servers themselves with target/ci-venv/bin/python. Idempotent: a venv
# that already imports all three is left as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/ci-venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import aiosmtpd, pyftpdlib, OpenSSL' 2>/dev/null; then
  exit 0
fi
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check aiosmtpd pyftpdlib pyopenssl
"$venv/bin/python" -c 'import aiosmtpd, pyftpdlib, OpenSSL'
