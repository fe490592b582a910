#!/usr/bin/env bash
# Runs every test in the repository. Installs what the tests need first (idempotent).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

# numpy (Debian's, for /usr/bin/python3) is the independent implementation the .npy tests cross-check against.
if ! /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "test.sh: installing python3-numpy (Debian) for the cross-checks..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy >/dev/null) \
      || echo "test.sh: could not install python3-numpy; numpy cross-checks will fail" >&2
  else
    echo "test.sh: python3-numpy is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

# PostgreSQL (Debian's) for the grain storage tests, which start their own throwaway cluster on a loopback port.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "test.sh: installing postgresql (Debian) for the grain storage tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
      || echo "test.sh: could not install postgresql; the PostgreSQL storage tests will fail" >&2
  else
    echo "test.sh: postgresql is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

# Fashion-MNIST (Debian's dataset-fashion-mnist) for the trainer's tests on the real images.
if [[ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    echo "test.sh: installing dataset-fashion-mnist (Debian) for the trainer tests..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
      || echo "test.sh: could not install dataset-fashion-mnist; the trainer's real-data tests only check synthetic files" >&2
  else
    echo "test.sh: dataset-fashion-mnist is missing and cannot be installed here (need root and apt-get)" >&2
  fi
fi

# npm packages (package-lock.json) are the independent implementations for the Merkle-tree cross-checks
# (@openzeppelin/merkle-tree); reinstalled only when the lock file changes.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if command -v npm >/dev/null 2>&1; then
    echo "test.sh: installing npm packages (npm ci)..."
    npm ci --no-audit --no-fund --loglevel=error || echo "test.sh: npm ci failed; the cross-checks against npm packages will fail" >&2
  else
    echo "test.sh: npm is missing; the cross-checks against npm packages will fail" >&2
  fi
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test "$root/FedAgg.sln" -c Release -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [[ $status -ne 0 ]]; then
  exit $status
fi
if [[ $passed -eq 0 ]]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
