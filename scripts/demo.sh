#!/usr/bin/env bash
# Quick start 1: installs the prerequisites if needed, then runs the demo (extra arguments go to the demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
bash scripts/pack-local.sh   # the demo consumes TorchInit as a package from ./local-feed, as a user would
dotnet run --project examples/TorchInit.Demo -c Release -- "$@"
