#!/usr/bin/env bash
# Installs what kinetic needs to build, test and benchmark, from Debian 12 packages only.
# Idempotent: when every package is already installed it does nothing (no apt-get call).
# Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev  # libFuzzer targets and their sanitizer runtimes
  libboost-dev              # Boost.Lockfree (header-only)
  libsimdjson-dev liburing-dev libssl-dev libeigen3-dev
  libtomlplusplus-dev libcli11-dev
  libzstd-dev               # reading .zst captures
  zlib1g-dev                # reading Bybit's .zip history files
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev        # the conventional JSON decoder the benchmarks compare against
  python3-websockets        # an independent WebSocket peer for the feed's loopback tests
  openssl                   # certificates made by the TLS tests
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
