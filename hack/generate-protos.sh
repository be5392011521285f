#!/usr/bin/env bash
# Regenerates Sources/FlyteIDL/*.pb.swift from proto/ (written by us from
# ../shared/flyteidl2-facts.md). The generated code is committed, so builds and CI never need
# this script or its tools.
#
# Needs: protoc (Debian: apt-get install protobuf-compiler; its well-known types live in
# /usr/include), or PyPI's grpcio-tools (`pip install grpcio-tools`, used when no protoc is on
# PATH; its well-known types ship with it), and protoc-gen-swift from swift-protobuf at the
# version Package.swift names. Without PROTOC_GEN_SWIFT set, the plugin is built from the
# package checkout in .build.
set -euo pipefail
cd "$(dirname "$0")/.."

plugin="${PROTOC_GEN_SWIFT:-}"
if [[ -z "$plugin" ]]; then
  swift package resolve >/dev/null
  src=.build/checkouts/swift-protobuf
  (cd "$src" && swift build --product protoc-gen-swift >/dev/null)
  plugin="$src/.build/debug/protoc-gen-swift"
fi
if command -v protoc >/dev/null; then
  protoc=(protoc)
  include="${PROTOC_INCLUDE:-/usr/include}"
else
  protoc=(python3 -m grpc_tools.protoc)
  include="${PROTOC_INCLUDE:-$(python3 -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')}"
fi

out=Sources/FlyteIDL
rm -f "$out"/*.pb.swift
protos=$(cd proto && find . -name '*.proto' | sed 's|^\./||' | sort)
"${protoc[@]}" -I proto -I "$include" \
  --plugin=protoc-gen-swift="$plugin" \
  --swift_opt=Visibility=Public \
  --swift_opt=FileNaming=PathToUnderscores \
  --swift_out="$out" \
  $protos
echo "generated $(ls "$out"/*.pb.swift | wc -l) files in $out"
