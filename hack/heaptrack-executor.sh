#!/usr/bin/env bash
# Runs a command under heaptrack (a heap profiler: every allocation with its stack) and keeps
# heaptrack's own messages off the command's stdout, which the executor benchmark reads.
# Used as the bench's wrapper of the executor's process:
#   BENCH_EXECUTOR_WRAPPER="$PWD/hack/heaptrack-executor.sh" BENCH_PACED=0 BENCH_TASKACTIONS=2000 \
#     BENCH_ONLY=executor BENCH_EXECUTOR_RUNS=1 .build/release/executor-bench
# The profile goes to $HEAPTRACK_OUT.zst (default /tmp/executor-heap); read what was still
# allocated at the end with
#   heaptrack_print -f /tmp/executor-heap.zst --print-leaks 1 --print-peaks 0 --print-allocators 0 \
#     --print-temporary 0 | swift demangle --simplified
# (--print-peaks 1 for the peak). heaptrack is a Debian/Ubuntu package of that name.
set -euo pipefail
out="${HEAPTRACK_OUT:-/tmp/executor-heap}"
# heaptrack announces itself and its output file on stdout; the command's own lines pass.
/usr/bin/heaptrack -o "$out" "$@" | grep --line-buffered -v \
    -e '^heaptrack output will be written' -e '^starting application' -e '^Heaptrack finished' \
    -e '^  heaptrack --analyze' -e '^heaptrack_gui' -e '^/.*libheaptrack_preload' -e '^$'
