#!/usr/bin/env bash
# Checks the binary of Tests/Fixtures/OutOfTreePlugin: an executor built outside this package
# must carry its own plugin beside the built-in ones and write that plugin's RBAC rule.
set -euo pipefail
bin=${1:?usage: hack/check-example.sh PATH-TO-my-executor}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
plugins=$("$bin" plugins)
echo "$plugins"
grep -qE '^note[[:space:]]+no[[:space:]]+v1 ConfigMap[[:space:]]+note$' <<<"$plugins" || { echo "example: the note plugin is not registered"; exit 1; }
grep -qE '^pod[[:space:]]+yes[[:space:]]+v1 Pod' <<<"$plugins" || { echo "example: the built-in Pod plugin is missing"; exit 1; }
"$bin" manifests --output-dir "$out/crd" --rbac-dir "$out/rbac" >/dev/null
grep -q 'resources: \["configmaps"\]' "$out/rbac/role.yaml" || { echo "example: role.yaml lacks the note plugin's configmaps rule"; exit 1; }
grep -q 'resources: \["pods"\]' "$out/rbac/role.yaml" || { echo "example: role.yaml lacks the pods rule"; exit 1; }
echo "example: my-executor registers its own plugin and writes its RBAC rule"
