#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer (the Fuzz/ package) and runs
# each for FUZZ_SECONDS (default 60). FUZZ_TARGETS="json yaml" picks some; the default is every
# folder of Fuzz/corpus. New inputs go to .build-fuzz/corpus/<target> (the committed seeds in
# Fuzz/corpus are read, never written); a crash is saved as .build-fuzz/crashes/<target>-crash-…
# and fails the run: minimise it, copy it to Fuzz/regressions/<target>/, fix it, and `make
# test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-$(ls Fuzz/corpus)}
# SwiftPM hands swiftc `-sanitize=fuzzer -sanitize=address` as two flags, and swiftc 6.3 keeps
# only the last: the Swift code got AddressSanitizer but no coverage counters, so libFuzzer ran
# blind over it (only the C code was instrumented). The coverage is asked for explicitly, which
# swiftc honours whatever the order; the checks below fail a build without it and a run that
# sees no coverage.
swift build --package-path Fuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address \
  -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
binary=.build-fuzz/debug/executor-fuzz
probe=.build-fuzz/debug/ExecutorFuzzing.build/FuzzTarget.swift.o
if command -v readelf >/dev/null && ! readelf -SW "$probe" | grep __sancov_cntrs >/dev/null; then
  echo "fuzz: $probe has no coverage counters: libFuzzer would mutate blindly"; exit 1
fi
mkdir -p .build-fuzz/crashes
# The Swift runtime's caches look like leaks to LeakSanitizer at exit; memory errors still stop
# the run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
# Swift's crash backtracer reads memory AddressSanitizer guards; libFuzzer prints the stack.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
failed=()
for target in $targets; do
  mkdir -p ".build-fuzz/corpus/$target"
  echo "fuzz: $target for ${seconds}s"
  if ! FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix=".build-fuzz/crashes/$target-" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" 2> ".build-fuzz/$target.log"; then
    failed+=("$target")
    grep -E "ERROR|Fatal error|Precondition failed|SUMMARY|Test unit written" ".build-fuzz/$target.log" | head -8 || true
  elif grep -q "Is the code instrumented for coverage" ".build-fuzz/$target.log"; then
    # libFuzzer found no input that reaches new code: it mutated blindly, so a clean run says
    # nothing about the target.
    failed+=("$target")
    echo "fuzz: $target ran without coverage feedback (is the Swift code instrumented?)"
  fi
  grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" ".build-fuzz/$target.log" | tr '\n' ' ' || true
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]} (crash inputs in .build-fuzz/crashes, logs in .build-fuzz/<target>.log)"
  exit 1
fi
echo "fuzz: no crash in $(echo $targets | wc -w) targets"
