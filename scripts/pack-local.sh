#!/usr/bin/env bash
# Packs TorchInit into ./local-feed (the source NuGet.config names) and drops NuGet's cached copy of that
# id+version, so the next restore of the examples, notebooks or a fresh project takes this very pack.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet pack src/TorchInit -c Release -warnaserror -nologo -v q   # warnings are errors here too: test.sh's later solution build is incremental and would not see them
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchinit"
