#!/usr/bin/env bash
# Times `meshlint check` (release build) on a synthetic mesh and, when present, on the istio
# analyzer corpus. Usage: scripts/bench.sh [SERVICES] [NAMESPACES]
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-10000}
namespaces=${2:-100}
cargo build --release --quiet
bin=target/release/meshlint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/synthetic-mesh.py "$services" "$namespaces" > "$tmp/mesh.yaml"
python3 scripts/synthetic-mesh.py "$services" "$namespaces" --routing > "$tmp/routing.yaml"
python3 scripts/synthetic-mesh.py "$services" "$namespaces" --gateway-api > "$tmp/gateway-api.yaml"
echo "synthetic mesh: $services services in $namespaces namespaces, $(du -h "$tmp/mesh.yaml" | cut -f1)"
run() {
  for _ in 1 2 3; do
    /usr/bin/time -f "  %e s wall, %M KB max RSS" "$bin" check "$@" --format json > /dev/null || true
  done
}
run "$tmp/mesh.yaml"
echo "with a VirtualService and DestinationRule per Service, a Gateway per namespace:"
run "$tmp/routing.yaml"
echo "with a Gateway API Gateway, ReferenceGrant and TCPRoute per namespace, an HTTPRoute per Service:"
run "$tmp/gateway-api.yaml"
if [ -d ../shared/compat/istio-analyze/testdata ]; then
  echo "istio-analyze testdata:"
  run ../shared/compat/istio-analyze/testdata
fi
