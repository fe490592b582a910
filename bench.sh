#!/usr/bin/env bash
# Aggregation benchmarks (not part of the test suite). Builds loadtests/FedAgg.Benchmarks in Release and runs it.
#   ./bench.sh                       table: n ∈ {10,50,100}, d ∈ {1e5,1e6}, every rule, copy/naive/numpy baselines
#   ./bench.sh --quick               a short run (d = 1e5, 3 runs)
#   ./bench.sh --n 100 --d 1e7 --rules mean,median   big inputs must be asked for (n=100, d=1e7 is 4 GB)
#   ./bench.sh --bdn [--filter *Median*]             BenchmarkDotNet with [MemoryDiagnoser] (allocations)
#   ./bench.sh updates [seconds]                     Ed25519 verify/sign, streaming SHA-256, Merkle trees
#   ./bench.sh store [--sizes 1k,1m,64m] [--writers 8] [--seconds 5]   update store: fsync per update vs group commit
#   ./bench.sh libp2p [--quick] [--js] [--runs N] [--dialers N] [--only …]   libp2p data path vs raw TCP, ChaCha20-Poly1305, js-libp2p
#   ./bench.sh load <scenario> [options]   load scenarios against a server child process (loadtests/README.md)
#   ./bench.sh --help
# The table goes to stdout and to loadtests/reports/bench-<UTC timestamp>.md. numpy columns need Debian's
# /usr/bin/python3 with numpy (apt-get install python3-numpy libopenblas0-pthread); without it they are left out.
# FEDAGG_BENCH_ARTIFACTS sets the build output folder (default: artifacts/bench under the repository).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
artifacts="${FEDAGG_BENCH_ARTIFACTS:-$root/artifacts/bench}"

if [[ "${1:-}" == "libp2p" ]]; then
  shift
  dotnet build loadtests/FedAgg.Libp2p.Benchmarks/FedAgg.Libp2p.Benchmarks.csproj -c Release -nologo -v quiet --artifacts-path "$artifacts" >&2
  exec dotnet "$artifacts/bin/FedAgg.Libp2p.Benchmarks/release/FedAgg.Libp2p.Benchmarks.dll" "$@"
fi

if [[ "${1:-}" == "load" ]]; then
  shift
  dotnet build loadtests/FedAgg.LoadTests/FedAgg.LoadTests.csproj -c Release -nologo -v quiet --artifacts-path "$artifacts" >&2
  exec dotnet "$artifacts/bin/FedAgg.LoadTests/release/fedagg-load.dll" "$@"
fi

dotnet build loadtests/FedAgg.Benchmarks/FedAgg.Benchmarks.csproj -c Release -nologo -v quiet \
  --artifacts-path "$artifacts" >&2
exec dotnet "$artifacts/bin/FedAgg.Benchmarks/release/FedAgg.Benchmarks.dll" "$@"
