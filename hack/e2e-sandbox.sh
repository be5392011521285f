#!/usr/bin/env bash
# The portable suite (make e2e) against a KubeSandbox in a process of its own, reached only
# through its kubeconfig, as a real cluster would be: it checks that the portable tests use
# nothing but the API (each in a namespace of its own, the simulated kubelet as a client taking
# only its namespace's Pods). No kubelet runs in the sandbox: the tests bring theirs.
# Usage: hack/e2e-sandbox.sh [swift test arguments, e.g. --filter TaskActionScenarioTests]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'kill $sandbox 2>/dev/null || true; wait $sandbox 2>/dev/null || true; rm -rf "$dir"' EXIT
.build/debug/executor sandbox --port 0 --kubeconfig-out "$dir/kubeconfig" >"$dir/sandbox.log" 2>&1 &
sandbox=$!
for _ in $(seq 1 100); do [ -s "$dir/kubeconfig" ] && break; sleep 0.1; done
[ -s "$dir/kubeconfig" ] || { echo "e2e-sandbox: the sandbox did not start:"; cat "$dir/sandbox.log"; exit 1; }
KUBECONFIG="$dir/kubeconfig" EXECUTOR_E2E=1 SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=${TEST_WIDTH:-8} swift test --skip-build "$@"
