#!/usr/bin/env bash
# Builds the release preset and runs every micro-benchmark and the latency suite, writing
# the figures and the machine they came from into perf/results/<date>-<host>/.
#   perf/run-benchmarks.sh [--quick] [--initiator-core N --echo-core M]
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
initiator_core=0
echo_core=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --initiator-core) initiator_core=$2; shift ;;
    --echo-core) echo_core=$2; shift ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "run-benchmarks: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

tools/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target decimal_bench ring_bench clock_histogram_bench log_bench drift_bench kalman_bench \
  calculus_bench risk_bench decode_bench book_bench kinetic_latency kinetic

out="perf/results/$(date -u +%Y-%m-%d)-$(hostname -s)"
mkdir -p "$out"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "cores: $(nproc)"
  echo "kernel: $(uname -srm)"
  echo "compiler: $(g++ --version | head -1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "flags: release preset (-O3, LTO, -march=native)"
} > "$out/machine.txt"
cat "$out/machine.txt"

reps=5; min_time=0.2; samples=1000000
if [ $quick -eq 1 ]; then reps=3; min_time=0.05; samples=200000; fi

for b in decimal_bench ring_bench clock_histogram_bench log_bench drift_bench kalman_bench \
    calculus_bench risk_bench decode_bench book_bench; do
  echo "== $b"
  "build/release/bench/$b" --benchmark_repetitions=$reps --benchmark_report_aggregates_only=true \
    --benchmark_min_time=$min_time --benchmark_out="$out/$b.json" --benchmark_out_format=json \
    | tee "$out/$b.txt"
done

echo "== kinetic_latency"
build/release/bench/kinetic_latency --samples $samples --initiator-core "$initiator_core" \
  --echo-core "$echo_core" --json "$out/latency.json" | tee "$out/latency.txt"

echo "== kinetic demo"
build/release/tools/kinetic demo | tee "$out/demo.txt"
echo "== kinetic demo, pipelined (feed core $initiator_core, strategy core $echo_core)"
KINETIC_THREADS_FEED_CORE=$initiator_core KINETIC_THREADS_STRATEGY_CORE=$echo_core \
  build/release/tools/kinetic demo --layout pipelined | tee "$out/demo-pipelined.txt"
echo "results in $out"
