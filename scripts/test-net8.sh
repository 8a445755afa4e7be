#!/usr/bin/env bash
# Runs the library's net8.0 build on the .NET 8 runtime, which need not be installed: publishes
# tests/TorchInit.Tests.Net8 (an xunit.v3 self-executing test program: the PyTorch fixtures, the Auto conformance zoo,
# fast mode and its kernels, the cross-target golden hashes) self-contained for linux-x64, so the .NET 8 runtime comes
# from NuGet's runtime pack, and runs it twice: as is, and the cross-target tests once more with FMA, AVX2 and
# AVX-512 switched off in the JIT, which sends the 256-bit kernels through .NET 8's per-lane fallbacks.
# Prints xunit's summary lines (scripts/test.sh adds them to its closing line). Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/net8-tests
rm -rf "$out"
dotnet publish tests/TorchInit.Tests.Net8 -c Release -r linux-x64 --self-contained -f net8.0 -o "$out" -nologo -v q
"$out/TorchInit.Tests" -noColor -noLogo
DOTNET_EnableFMA=0 DOTNET_EnableAVX2=0 DOTNET_EnableAVX512F=0 "$out/TorchInit.Tests" -noColor -noLogo -class TorchInit.Tests.CrossTargetTests
rm -rf "$out"   # 0.5 GB of self-contained runtime and libtorch, needed only for these two runs
