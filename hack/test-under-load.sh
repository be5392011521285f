#!/usr/bin/env bash
# Runs `make test` N times in a row while a clean release build runs beside it, as CI and
# colleagues run the suite on 2 shared cores. Stops at the first failing run and keeps its log.
#   hack/test-under-load.sh [N]      (default 20)
#   TARGETS="test e2e-sandbox" hack/test-under-load.sh 3   (the make targets each run makes)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
targets=${TARGETS:-test}
make $targets >/dev/null 2>&1 || { echo "make $targets fails even without load"; exit 1; }
rm -rf .build-load
swift build -c release --scratch-path .build-load >/tmp/test-under-load-build.log 2>&1 &
builder=$!
trap 'kill $builder 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
  log=/tmp/test-under-load-$i.log
  if make $targets >"$log" 2>&1; then
    busy=$(kill -0 $builder 2>/dev/null && echo "build running" || echo "build finished")
    echo "run $i: passed ($busy) $(grep -E 'Test run with' "$log" | tail -1)"
  else
    echo "run $i: FAILED, see $log"; grep -E '✘ Test' "$log" | head -5; exit 1
  fi
  # Keep the machine busy for every run: start another build when the first one ends.
  if ! kill -0 $builder 2>/dev/null; then
    rm -rf .build-load
    swift build -c release --scratch-path .build-load >>/tmp/test-under-load-build.log 2>&1 &
    builder=$!
  fi
done
echo "$runs runs passed beside a release build"
