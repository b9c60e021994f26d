#!/usr/bin/env bash
# zsh and fish: the completion tests drive each shell's own completion machinery (bash is
# always there). Idempotent; does nothing when both are installed.
set -euo pipefail
if command -v zsh >/dev/null 2>&1 && command -v fish >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "shells.sh: zsh or fish is missing and only root can install them; their completion tests will skip" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zsh fish
