#!/usr/bin/env bash
# End-to-end on a real cluster (the one KUBECONFIG names): install dist/install.yaml with the
# image IMG, wait for the executor, run the samples, and check their results. The executor
# runs with only the installed service account's permissions. Cleans up afterwards.
# Usage: IMG=registry.example.com/executor:0.1.0 hack/e2e-install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${IMG:?set IMG to an image the cluster can pull (make docker-build docker-push IMG=...)}"
KUBECTL="${KUBECTL:-kubectl}"
out=$(mktemp)
trap 'rm -f "$out"; $KUBECTL delete --ignore-not-found -k config/samples >/dev/null 2>&1 || true; $KUBECTL delete --ignore-not-found -f "$out.install" >/dev/null 2>&1 || true; rm -f "$out.install"' EXIT
OUT="$out.install" hack/build-installer.sh "$IMG" >/dev/null
apply_log=$($KUBECTL apply -f "$out.install" 2>&1)
echo "$apply_log"
if grep -qi "warning\|error" <<<"$apply_log"; then echo "e2e: apply printed a warning or error" >&2; exit 1; fi
$KUBECTL -n executor-system rollout status deployment/executor-controller-manager --timeout=180s
$KUBECTL apply -k config/samples
for name in sample-run-a0 sample-run-a1; do
  $KUBECTL wait taskaction/$name --for=jsonpath='{.metadata.labels.flyte\.org/termination-status}'=terminated --timeout=300s
done
ok=$($KUBECTL get taskaction sample-run-a0 -o jsonpath='{.status.conditions[?(@.type=="Succeeded")].status}')
failed=$($KUBECTL get taskaction sample-run-a1 -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}/{.status.attempts}')
echo "sample-run-a0 Succeeded=$ok; sample-run-a1 Failed=$failed"
[[ "$ok" == "True" && "$failed" == "PermanentFailure/3" ]]
echo "e2e: install and samples passed"
