#!/usr/bin/env bash
# Proves the packed package works for a user: packs TorchInit into ./local-feed, creates a fresh console
# project outside the repository that references only TorchInit (from that feed) and TorchSharp-cpu,
# and runs a program that initializes a model and checks the result. Exits non-zero on any failure.
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
    <TargetFramework>net10.0</TargetFramework>
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
var model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10));
var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, MeasureRealized = true });
Console.WriteLine(report);
var row = report["0.weight"];
bool ok = row.FanIn == 100 && Math.Abs(row.TargetStd - Math.Sqrt(2.0 / 100)) < 1e-12
          && Math.Abs(row.RealizedStd - row.TargetStd) < 0.1 * row.TargetStd && report.Rows.Count == 4;
Console.WriteLine(ok ? "package smoke test: ok" : "package smoke test: FAILED");
return ok ? 0 : 1;
CS
dotnet run -c Release -nologo
