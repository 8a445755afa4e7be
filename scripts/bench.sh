#!/usr/bin/env bash
# Runs TorchInit's benchmarks and PyTorch's in the same run, size by size (PyTorch first, then TorchSharp, so both
# see the same machine state), and prints the ratios. Benchmarks are not tests: nothing runs this automatically.
#
#   bash scripts/bench.sh [--sizes 10M,100M] [--reps 5] [--runs 1] [--dists normal,uniform,trunc] [--out results.jsonl]
#
# --runs N repeats the whole sequence N times (the machine's state drifts between runs: on a shared 2-core VM
# single runs of the same case differ by up to 30%); the report then gives each figure as the median of the runs.
# 1B (16 x Linear(8000, 8000), 4.1 GB float32 per process) is opt-in: --sizes 1B --reps 3.
set -euo pipefail
cd "$(dirname "$0")/.."
# glibc keeps freed large blocks for reuse unless they are mmapped: a fixed mmap threshold returns them, so
# that each case's peak RSS counts what the case itself allocates (both processes).
export MALLOC_MMAP_THRESHOLD_=131072
sizes=10M,100M; reps=5; runs=1; dists=normal,uniform,trunc; out=""; cases_py=fill,init,build; cases_net=fill,libtorch,exact,fast,build
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --dists) dists=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build-cases) cases_py=fill,init; cases_net=fill,libtorch,exact,fast; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out=$(mktemp --suffix=.jsonl)
: > "$out"
echo "# machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM; load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet build benchmarks/TorchInit.Benchmarks -c Release -nologo -v q >/dev/null
extra=,overhead,profile   # ApplyInit's per-layer cost and fast mode's profile, measured once per run
for run in $(seq "$runs"); do
  [ "$runs" = 1 ] || echo "# run $run of $runs"
  for size in ${sizes//,/ }; do
    /usr/bin/python3 scripts/bench_pytorch.py --sizes "$size" --reps "$reps" --dists "$dists" --cases "$cases_py" --json "$out"
    dotnet run -c Release --no-build --project benchmarks/TorchInit.Benchmarks -- --sizes "$size" --reps "$reps" --dists "$dists" --cases "$cases_net$extra" --json "$out"
    extra=
  done
  extra=,overhead,profile
done
echo
/usr/bin/python3 scripts/bench_report.py "$out"
echo "# results: $out; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
