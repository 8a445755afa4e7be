#!/usr/bin/env bash
# Proves the packed package works for a user: packs TorchInit into ./local-feed, creates a fresh console
# project outside the repository that references only TorchInit (from that feed) and TorchSharp-cpu,
# and runs a program that initializes a model and checks the result: on net10.0 with `dotnet run`, then on net8.0 as a
# self-contained app (`dotnet publish -r linux-x64 --self-contained -f net8.0`: the .NET 8 runtime comes from NuGet's
# runtime pack, none need be installed), which must restore TorchInit's lib/net8.0. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
bash scripts/prereqs.sh
version=$(sed -n 's:.*<TorchInitVersion>\(.*\)</TorchInitVersion>.*:\1:p' Directory.Build.props)
bash scripts/pack-local.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > NuGet.config <<CFG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="torchinit-local" value="$repo/local-feed" />
  </packageSources>
</configuration>
CFG
cat > smoke.csproj <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFrameworks>net10.0;net8.0</TargetFrameworks>
    <ImplicitUsings>enable</ImplicitUsings>
    <NoWarn>\$(NoWarn);NU1603</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="TorchInit" Version="$version" />
    <PackageReference Include="TorchSharp-cpu" Version="0.107.0" />
  </ItemGroup>
</Project>
PROJ
cat > Program.cs <<'CS'
using TorchInit;
using static TorchSharp.torch;
TorchRuntime.EnsureLoaded();
Console.WriteLine($"runtime: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; TorchInit from {typeof(InitScheme).Assembly.Location}");
var model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10));
var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, MeasureRealized = true });
Console.WriteLine(report);
var row = report["0.weight"];
bool ok = row.FanIn == 100 && Math.Abs(row.TargetStd - Math.Sqrt(2.0 / 100)) < 1e-12
          && Math.Abs(row.RealizedStd - row.TargetStd) < 0.1 * row.TargetStd && report.Rows.Count == 4;
Console.WriteLine(ok ? "package smoke test: ok" : "package smoke test: FAILED");
return ok ? 0 : 1;
CS
dotnet run -c Release -nologo -f net10.0
dotnet publish -c Release -nologo -v q -f net8.0 -r linux-x64 --self-contained -o net8
./net8/smoke | tee net8.log
grep -q '^runtime: \.NET 8\.' net8.log || { echo "package smoke test: the net8.0 app did not run on .NET 8" >&2; exit 1; }
grep -q "lib/net8.0/TorchInit.dll" net8/smoke.deps.json || { echo "package smoke test: the net8.0 app did not restore lib/net8.0" >&2; exit 1; }
echo "package smoke test (net8.0, self-contained): ok"

# The package page: the packed README.md must render in a gallery (no link or image that only resolves inside the
# repository) and its quick start must run as written.
unzip -p "$repo/local-feed/TorchInit.$version.nupkg" README.md > readme.md
if grep -nE '\]\((\.|/|[^)#:]*\))|<img|src="[^h]' readme.md; then
  echo "package smoke test: the package readme has links or images that only resolve inside the repository" >&2; exit 1
fi
mkdir quickstart && cp NuGet.config quickstart/ && sed 's:<TargetFrameworks>net10.0;net8.0</TargetFrameworks>:<TargetFramework>net10.0</TargetFramework>:' smoke.csproj > quickstart/quickstart.csproj
{ echo 'using TorchInit;'; echo 'using TorchSharp;'; awk '/^```csharp/{f=1; next} /^```/{if (f) exit} f' readme.md; } > quickstart/Program.cs
(cd quickstart && dotnet run -c Release -nologo | grep -q '^0.weight ') || { echo "package smoke test: the package readme's quick start did not run" >&2; exit 1; }
echo "package smoke test (the package readme's quick start): ok"
