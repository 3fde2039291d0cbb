#!/bin/bash
# Builds the libFuzzer harnesses (clang, ASan+UBSan) and runs each for
# SECONDS (default 20), one after the other, then prints a table of
# executions per harness. Exit 0 when no harness found anything, 1 on a
# finding (the reproducer is kept under $ARO_FUZZ_WORK/findings/), 77
# when clang or its libFuzzer runtime is missing.
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
#
# Environment: ARO_FUZZ_BUILD (default <repo>/build-fuzz), ARO_FUZZ_WORK
# (default $ARO_FUZZ_BUILD/fuzz-work: grown corpora, findings, logs;
# kept between runs so that longer runs start where the last one stopped).
# Nothing is written into the source tree: tests/fuzz/corpus/ is read-only
# seed input.
set -u
src=${ARO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
secs=${1:-20}
shift 2>/dev/null || true
all=(json jws csr objects payload records)
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
build=${ARO_FUZZ_BUILD:-$src/build-fuzz}
work=${ARO_FUZZ_WORK:-$build/fuzz-work}

case "$secs" in ''|*[!0-9]*) echo "run.sh: SECONDS must be a number" >&2; exit 2 ;; esac
if ! command -v clang >/dev/null 2>&1; then
  echo "run.sh: clang not found (scripts/setup.sh installs it): skipped" >&2
  exit 77
fi
if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 &&
   ! ls /usr/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
  echo "run.sh: the libFuzzer runtime (libclang-rt-*-dev) is missing: skipped" >&2
  exit 77
fi

# Configure once; later runs only rebuild what changed.
if [ ! -f "$build/CMakeCache.txt" ] || [ ! -f "$build/Makefile" ]; then
  CC=clang cmake -S "$src" -B "$build" -DARO_FUZZ=ON -DARO_SANITIZE=ON >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2; echo "run.sh: configure failed" >&2; exit 1; }
  rm -f "$build.configure.log"
fi
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
if ! cmake --build "$build" -j"$(nproc)" "${targets[@]}" >"$build/fuzz-build.log" 2>&1; then
  tail -40 "$build/fuzz-build.log" >&2
  echo "run.sh: build failed (log $build/fuzz-build.log)" >&2
  exit 1
fi

mkdir -p "$work/findings"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
total=0
report=()
for h in "${harnesses[@]}"; do
  bin="$build/tests/fuzz/fuzz_$h"
  seeds="$src/tests/fuzz/corpus/$h"
  grown="$work/corpus/$h"
  log="$work/fuzz_$h.log"
  mkdir -p "$grown"
  # -max_total_time bounds the run; -timeout flags any single input that
  # takes over 10 s (a hang is a finding too); -rss_limit_mb catches
  # unbounded allocation. The grown corpus comes first: new inputs go there.
  timeout -k 10 $((secs + 120)) "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
      -max_len=16384 -print_final_stats=1 -artifact_prefix="$work/findings/$h-" \
      "$grown" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$rc" -ne 0 ]; then
    status=1
    report+=("$(printf '%-14s %12s execs  cov %-6s FAILED (rc %d, log %s)' "fuzz_$h" "$execs" "${cov:-?}" "$rc" "$log")")
    grep -m5 -E 'ERROR|runtime error|fuzz_[a-z]+:|Test unit written' "$log" >&2
  else
    report+=("$(printf '%-14s %12s execs  cov %-6s %ss, no findings' "fuzz_$h" "$execs" "${cov:-?}" "$secs")")
  fi
done
printf '%s\n' "${report[@]}"
printf '%-14s %12s execs in total\n' "all" "$total"
exit $status
