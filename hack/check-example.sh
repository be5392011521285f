#!/usr/bin/env bash
# Checks the binary of Examples/job-plugin: an executor built outside this package must carry
# its own plugin beside the built-in ones and write that plugin's RBAC rule.
set -euo pipefail
bin=${1:?usage: hack/check-example.sh PATH-TO-job-executor}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
plugins=$("$bin" plugins)
echo "$plugins"
grep -qE '^k8s_job[[:space:]]+no[[:space:]]+batch/v1 Job[[:space:]]+k8s_job$' <<<"$plugins" || { echo "example: the k8s_job plugin is not registered"; exit 1; }
grep -qE '^pod[[:space:]]+yes[[:space:]]+v1 Pod' <<<"$plugins" || { echo "example: the built-in Pod plugin is missing"; exit 1; }
"$bin" manifests --output-dir "$out/crd" --rbac-dir "$out/rbac" >/dev/null
grep -q 'resources: \["jobs"\]' "$out/rbac/role.yaml" || { echo "example: role.yaml lacks the k8s_job plugin's jobs rule"; exit 1; }
grep -q 'resources: \["pods"\]' "$out/rbac/role.yaml" || { echo "example: role.yaml lacks the pods rule"; exit 1; }
echo "example: job-executor registers its own plugin and writes its RBAC rule"
