#!/usr/bin/env bash
# The nightly toolchain and cargo-fuzz: `.ci/run` runs each fuzz target (fuzz/) for a few
# seconds on its saved corpus so that none rots. Idempotent; does nothing when both are there.
set -euo pipefail
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --version '^0.13' --locked
fi
