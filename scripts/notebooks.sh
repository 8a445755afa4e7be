#!/usr/bin/env bash
# Packs TorchInit into ./local-feed and runs every notebook under notebooks/ with the repo's notebook
# runner (Roslyn scripting, as .NET Interactive's C# kernel). Outputs are written back into the notebooks;
# a cell that throws fails the run with its number and exception. --no-write leaves the files unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
bash scripts/pack-local.sh
dotnet run --project tools/NotebookRunner -c Release -- "$@" notebooks/*.ipynb
