#!/usr/bin/env bash
# zsh and fish: the completion tests drive each shell's own completion machinery (bash is
# always there); man (man-db): the installer's tests look the pages up as operators do.
# Idempotent; does nothing when all three are installed.
set -euo pipefail
if command -v zsh >/dev/null 2>&1 && command -v fish >/dev/null 2>&1 && command -v man >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "shells.sh: zsh, fish or man is missing and only root can install them; their tests will skip" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends zsh fish man-db
