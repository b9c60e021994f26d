#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the WebManager's browser test
# (tests/e2e/webmgr_browser.rs). Idempotent; Debian's packages.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
