#!/usr/bin/env bash
# Installs every build, test and interop dependency from Debian 12's
# packages. Idempotent and quiet unless something fails. Run as root.
set -euo pipefail

PACKAGES=(
  # build
  gcc make cmake pkg-config libh2o-evloop-dev libssl-dev libyajl-dev liblmdb-dev
  libcurl4-openssl-dev libc-ares-dev
  # the public suffix list, for limits per registered domain (rules/limits.c)
  libpsl-dev publicsuffix
  # IDNA A-labels for the names the client is given (client/identifiers.c)
  libidn2-dev
  # tcmalloc for aro-server and aro-loadgen (CMakeLists.txt, ARO_TCMALLOC)
  libgoogle-perftools-dev
  # tools the tests and the demo use
  openssl curl ca-certificates lmdb-utils python3 procps iproute2 psmisc
  # sanitizers, fuzzing, leak checks
  clang libclang-rt-14-dev valgrind
  # real peers: ACME servers and clients
  pebble certbot lego uacme dehydrated python3-acme python3-josepy python3-requests
  # Caddy (its acmez/certmagic) and the patched acmez of interop/acmez, built
  # offline in GOPATH mode from Debian's Go packages (the quick interop subset
  # runs both)
  caddy golang-go golang-github-mholt-acmez-dev patch
  # uacme's nsupdate.sh against a real DNS server (tests/e2e/client_nsupdate.sh)
  bind9 bind9-dnsutils
  # the Internet-Draft
  ruby-kramdown-rfc2629 libxml2-utils
  # the man page (mandoc -Tlint)
  mandoc
  # benchmarks
  nghttp2-client gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: these packages are missing and installing them needs root: ${missing[*]}" >&2
  exit 1
fi
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup.sh: installing ${missing[*]} failed" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
