#!/usr/bin/env bash
# Reproduces the figures of docs/performance.md: `meshlint check`, `listeners` and `graph`
# (release build, `--format json`) on synthetic meshes of growing size, beside a parse-only
# baseline (PyYAML's libyaml loader reading the same files into generic values), then one large
# file, one small file and a 50 MB config dump.
#
# Every figure is the best of 3 runs. CPU is user+sys seconds, which other processes on the
# machine disturb far less than wall time; memory is the peak resident set.
#
# Usage: scripts/bench.sh [RESOURCES...]        (default: 1000 10000 20000 100000)
#   BENCH_COMMANDS="check listeners graph"      commands to time
#   CHECKOV=path/to/checkov                     also time checkov on the 2k tree and on
#   ARGOCD_INSTALL=path/to/install.yaml         argo-cd's install.yaml (when given)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 20000 100000)
commands=${BENCH_COMMANDS:-check listeners graph}
cargo build --release --quiet
bin=$PWD/target/release/meshlint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# best3 LABEL CMD...: runs CMD three times, prints "LABEL | cpu s | wall s | peak MB" (best each).
best3() {
  local label=$1
  shift
  for _ in 1 2 3; do
    rc=0
    /usr/bin/time -f '%U %S %e %M' -o "$tmp/time" "$@" > /dev/null 2> "$tmp/stderr" || rc=$?
    # meshlint exits 1 when it has findings; anything more is a failed run, not a figure.
    if [ "$rc" -gt 1 ]; then
      echo "$label: exit $rc: $(head -c 500 "$tmp/stderr")" >&2
      exit 1
    fi
    tail -n 1 "$tmp/time"
  done | awk -v l="$label" '
    { cpu = $1 + $2; if (NR == 1 || cpu < c) c = cpu; if (NR == 1 || $3 < w) w = $3;
      if (NR == 1 || $4 < m) m = $4 }
    END { printf "| %s | %.2f | %.2f | %.0f |\n", l, c, w, m / 1024 }'
}

# parse_only values|events FILES...: libyaml through PyYAML, into generic values or events only.
parse_only=(python3 -c '
import sys, yaml
values = sys.argv[1] == "values"
for p in sys.argv[2:]:
    with open(p) as f:
        for _ in (yaml.load_all if values else yaml.parse)(f, Loader=yaml.CSafeLoader):
            pass
')

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "meshlint $(git rev-parse --short HEAD), PyYAML $(python3 -c 'import yaml; print(yaml.__version__)')"
echo
echo "| input | command | CPU s | wall s | peak MB |"
echo "|---|---|---|---|---|"
for resources in "${sizes[@]}"; do
  # Four objects per service (Service, Deployment, VirtualService, DestinationRule), forty
  # objects per file, a hundred namespaces.
  services=$((resources / 4))
  files=$(((resources + 39) / 40))
  dir=$tmp/mesh-$resources
  python3 scripts/synthetic-mesh.py "$services" 100 --routing --files "$files" "$dir"
  size=$(du -sb "$dir" | cut -f1)
  label="$resources objects, $files files, $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB"
  best3 "$label | parse only: libyaml into values" "${parse_only[@]}" values "$dir"/*.yaml
  best3 "$label | parse only: libyaml events" "${parse_only[@]}" events "$dir"/*.yaml
  for c in $commands; do
    best3 "$label | $c" "$bin" "$c" --format json "$dir"
  done
  rm -rf "$dir"
done

echo
echo "| input | command | CPU s | wall s | peak MB |"
echo "|---|---|---|---|---|"
# One large file (20k objects in one file), one small file as a pre-commit hook passes it,
# and a 50 MB config dump.
python3 scripts/synthetic-mesh.py 5000 100 --routing > "$tmp/one.yaml"
best3 "one file, 20k objects, $(($(stat -c %s "$tmp/one.yaml") / 1000000)) MB | parse only: libyaml into values" "${parse_only[@]}" values "$tmp/one.yaml"
best3 "one file, 20k objects | check" "$bin" check --format json "$tmp/one.yaml"
# A pre-commit hook checks a file or two: a hundred runs, to see past the timer's resolution.
best3 "one small file, 100 runs one after the other | check" bash -c \
  "for _ in \$(seq 100); do '$bin' check --format json testdata/rules/MESH504/bad.yaml; done"
python3 scripts/gen-big-dump.py testdata/dumps/hazelcast-5701.json "$tmp/dump.json" 50 > /dev/null
best3 "config dump, $(($(stat -c %s "$tmp/dump.json") / 1000000)) MB | check" "$bin" check --format json "$tmp/dump.json"

if [ -n "${CHECKOV:-}" ]; then
  echo
  echo "| input | tool | CPU s | wall s | peak MB |"
  echo "|---|---|---|---|---|"
  dir=$tmp/mesh-2000
  python3 scripts/synthetic-mesh.py 500 100 --routing --files 50 "$dir"
  best3 "2k objects, 50 files | meshlint check" "$bin" check --format json "$dir"
  best3 "2k objects, 50 files | checkov" "$CHECKOV" --quiet --compact -o json --framework kubernetes -d "$dir"
  if [ -n "${ARGOCD_INSTALL:-}" ]; then
    best3 "argo-cd install.yaml | meshlint check" "$bin" check --format json "$ARGOCD_INSTALL"
    best3 "argo-cd install.yaml | checkov" "$CHECKOV" --quiet --compact -o json --framework kubernetes -f "$ARGOCD_INSTALL"
  fi
fi
