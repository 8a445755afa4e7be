#!/usr/bin/env bash
# Packs TorchInit into ./local-feed and runs every notebook under notebooks/ with the repo's notebook
# runner (Roslyn scripting, as .NET Interactive's C# kernel). Outputs are written back into the notebooks;
# a cell that throws fails the run with its number and exception. --no-write leaves the files unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
dotnet pack src/TorchInit -c Release -nologo -v q
# NuGet caches a package by id and version: drop the cached TorchInit so the fresh pack is what restores.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchinit"
dotnet run --project tools/NotebookRunner -c Release -- "$@" notebooks/*.ipynb
