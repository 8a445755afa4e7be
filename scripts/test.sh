#!/usr/bin/env bash
# Quick start 2: installs the prerequisites if needed, checks the committed PyTorch fixtures against real
# PyTorch when it is installed (CI installs it), then builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 scripts/gen_fixtures.py --check
else
  echo "test.sh: reference PyTorch not installed; testing against the committed fixtures only (bash scripts/prereqs.sh --with-pytorch installs it)"
fi
bash scripts/pack-local.sh   # the examples consume TorchInit as a package from ./local-feed
dotnet build TorchInit.sln -c Release -warnaserror -nologo -v q
log=$(mktemp)
set +e
dotnet test TorchInit.sln -c Release --no-build -nologo 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line, summed over the test projects.
awk '/^(Passed|Failed)! +- Failed: / { gsub(/,/, ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$rc"
