#!/usr/bin/env bash
# Quick start 2: installs the prerequisites if needed, checks the committed PyTorch fixtures against real
# PyTorch and the torchvision ones against real torchvision when they are installed (CI installs both), then
# builds and runs every test: on net10.0 (TorchInit.sln) and, for the library's net8.0 build, on the .NET 8
# runtime (scripts/test-net8.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 scripts/gen_fixtures.py --check
  /usr/bin/python3 scripts/gen_hf_fixtures.py --check
else
  echo "test.sh: reference PyTorch not installed; testing against the committed fixtures only (bash scripts/prereqs.sh --with-pytorch installs it)"
fi
if /usr/bin/python3 -c 'import torchvision' 2>/dev/null; then
  /usr/bin/python3 scripts/gen_torchvision_fixtures.py --check
  /usr/bin/python3 scripts/gen_zoo_fixtures.py --check
  /usr/bin/python3 scripts/gen_torchvision_tree_fixtures.py --check
else
  echo "test.sh: reference torchvision not installed; testing against the committed torchvision fixtures only (bash scripts/prereqs.sh --with-pytorch installs it)"
fi
bash scripts/pack-local.sh   # the examples consume TorchInit as a package from ./local-feed
dotnet build TorchInit.sln -c Release -warnaserror -nologo -v q
log=$(mktemp)
set +e
dotnet test TorchInit.sln -c Release --no-build -nologo 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# The same library built for net8.0, on the .NET 8 runtime (self-contained: no .NET 8 install needed).
bash scripts/test-net8.sh 2>&1 | tee -a "$log"
rc8=${PIPESTATUS[0]}
export rc8
set -e
# One plain closing line, summed over the test projects (vstest's "Passed!/Failed!" lines, xunit.v3's "Total:" lines).
awk '/^(Passed|Failed)! +- Failed: / { gsub(/,/, ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     / Total: [0-9]+, Errors: / { gsub(/,/, ""); for (i = 1; i <= NF; i++) { if ($i == "Total:") t = $(i+1); if ($i == "Errors:") e = $(i+1); if ($i == "Failed:") x = $(i+1); if ($i == "Skipped:") k = $(i+1); if ($i == "Run:") n = $(i+1) }
                                  p += t - e - x - k - n; f += e + x; s += k + n }
     END { if (ENVIRON["rc8"] != 0 && t == 0) f += 1   # the .NET 8 run failed before xunit summed anything (e.g. its publish)
           printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
[ "$rc" -ne 0 ] && exit "$rc"
exit "$rc8"
