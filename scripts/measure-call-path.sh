#!/usr/bin/env bash
# Which TorchInit source files and methods run for model.ApplyInit(InitScheme.HeNormal) on one torch.nn.Linear(8, 4)?
#   bash scripts/measure-call-path.sh [REPO_ROOT]     (default: this script's repository)
# A throwaway console app (temp dir, ProjectReference to REPO_ROOT/src/TorchInit/TorchInit.csproj, Release) warms up
# TorchSharp, then calls PathMarker.Begin(), ApplyInit, PathMarker.End(). It runs with tiered compilation (tier 0 JIT-compiles
# every method on its first call, nothing inlined) and DOTNET_JitDisasmSummary, so the JIT lists each method it compiles, in
# order. The TorchInit.* methods listed between the two markers are the path; each is mapped to a source file by its declaring
# type (for a partial type: the parts that hold the member's body, else all of them; this agreed with the PDB's sequence
# points at 7b29bd9 and b389ca9). Methods are counted once per source method (generic instantiations merged), constructors,
# static constructors and property accessors included; lambdas apart; compiler plumbing (<>c caches, closure and iterator
# classes' own members, <Clone>$) listed but not counted. The app is then run again with TorchInit.pdb deleted: ApplyInit
# must still work and take the same path.
set -euo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
src=$repo/src/TorchInit
torchsharp=$(sed -n 's/.*"TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/CallPath.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$src/TorchInit.csproj" />
    <PackageReference Include="TorchSharp-cpu" Version="$torchsharp" />
  </ItemGroup>
</Project>
EOF
cat >"$work/Program.cs" <<'EOF'
using System;
using System.Linq;
using System.Runtime.CompilerServices;
using TorchInit;
using TorchSharp;
using static TorchSharp.torch;

// Warm-up: TorchSharp only (native library, a Linear, a tensor, a forward pass, the parameters); no TorchInit code yet.
var model = nn.Linear(8, 4);
using (var x = randn(2, 8))
using (var y = model.forward(x))
    Console.WriteLine($"warm-up: sum {y.sum().item<float>():F3}, {model.parameters().Count()} parameters");
PathMarker.Begin();
PathMarker.Run(model);
PathMarker.End();
Console.WriteLine($"ApplyInit ok: weight std {model.weight!.std().item<float>():F3} (He normal: ~{Math.Sqrt(2.0 / 8):F3}), bias max |b| {model.bias!.abs().max().item<float>()}");

static class PathMarker
{
    [MethodImpl(MethodImplOptions.NoInlining)] public static void Begin() { }
    [MethodImpl(MethodImplOptions.NoInlining)] public static void End() { }
    // A method of its own, so that compiling Main touches no TorchInit type (no static constructor runs early).
    [MethodImpl(MethodImplOptions.NoInlining)] public static void Run(nn.Module model) => model.ApplyInit(InitScheme.HeNormal);
}
EOF
dotnet build "$work/CallPath.csproj" -c Release -nologo -v q -o "$work/bin" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

# $1: JIT output file (the app's own output goes to $1.out). Prints the TorchInit.* methods compiled between the markers,
# once each (a method compiled again, e.g. by OSR, or a generic method for another enum, is listed once).
run_path() {
  # TC_CallCounting=0: methods stay at tier 0 (no tier-1 recompiles; without it about 1 run in 20 segfaulted at exit, after
  # its last line, 0 in 120 with it). A crash after the End marker and the app's last line leaves the list whole.
  DOTNET_TieredCompilation=1 DOTNET_TC_CallCounting=0 DOTNET_JitDisasmSummary=1 DOTNET_JitStdOutFile="$1" \
    dotnet "$work/bin/CallPath.dll" >"$1.out" || echo "note: the app exited with status $? after its output" >&2
  grep -q '^ApplyInit ok' "$1.out" && grep -q 'JIT compiled PathMarker:End()' "$1" || { echo "the app did not finish:"; cat "$1.out"; exit 1; } >&2
  sed -n '/JIT compiled PathMarker:Begin()/,/JIT compiled PathMarker:End()/p' "$1" |
    sed -n 's/^ *[0-9]*: JIT compiled \(TorchInit[.:+].*\) \[[^]]*\]$/\1/p' | awk '!seen[$0]++'
}
run_path "$work/jit.txt" >"$work/path.txt"
rm "$work/bin/TorchInit.pdb"
run_path "$work/jit-nopdb.txt" >"$work/path-nopdb.txt"
if cmp -s "$work/path.txt" "$work/path-nopdb.txt"; then pdb="no (same path with TorchInit.pdb deleted)"
else pdb="path differs without TorchInit.pdb:"$'\n'"$(diff "$work/path.txt" "$work/path-nopdb.txt" || true)"; fi

# Source files declaring type $1 (class/record/struct/interface), generated files under obj/bin left out.
type_files() { grep -rlE --include='*.cs' --exclude-dir=obj --exclude-dir=bin "^[^/]*\b(class|record|struct|interface)\s+$1\b" "$src"; }
# The lines of file $1 inside top-level type $2 (file-scoped namespaces: top-level declarations start in column 0).
section() { awk -v t="$2" '/^[^ \t\/{}\[]/ { on = ($0 ~ ("(class|record|struct|interface)[ \t]+" t "([^A-Za-z0-9_]|$)")) } on' "$1"; }

# holds FILE TYPE NAME: does FILE's part of the partial type TYPE hold the body of member NAME?
holds() {
  local body init='^    [^ /(][^(]*[^=!<>]=[^=>]' op=${3,,}               # init: a field or property with an initializer
  body=$(section "$1" "$2")
  case $3 in
    .cctor) grep -qE "^    static $2\s*\(" <<<"$body" || grep -E "$init" <<<"$body" | grep -qE '\bstatic\b' ;;
    .ctor) grep -qE "^    ((public|private|protected|internal) )+$2\s*\(" <<<"$body" ||
           grep -E "$init" <<<"$body" | grep -vqE '\b(static|const)\b' ;;
    op_Implicit|op_Explicit) grep -qE "\b${op#op_}\s+operator\b" <<<"$body" ;;
    *) grep -qE "^    [^ /=(][^=(]*\b$3\s*(<[^>]*>)?\s*(\(|\{|=>|$)" <<<"$body" ;;
  esac
}

: >"$work/rows.txt"; : >"$work/noise.txt"
while IFS= read -r m; do
  t=${m%%:*}; member=${m#*:}; sig=${member#*(}; member=${member%%(*}
  for v in t member sig; do while [[ ${!v} =~ \[[^][]*\] ]]; do printf -v "$v" '%s' "${!v//"${BASH_REMATCH[0]}"/}"; done; done  # generic arguments
  key="$t:$member($sig"                                                   # one source method for all instantiations
  IFS=+ read -ra parts <<<"${t//\`[0-9]/}"
  type=${parts[0]##*.}; owner=""                                          # innermost type written in source
  for p in "${parts[@]:1}"; do if [[ $p == \<* ]]; then owner=$p; else type=$p; owner=""; fi; done
  if [[ $member =~ ^\<([^>]*)\>b__ ]]; then kind=lambda; name=${BASH_REMATCH[1]}
  elif [[ $member =~ ^\<([^>]*)\>g__ ]]; then kind=local-function; name=${BASH_REMATCH[1]}
  elif [[ $owner =~ ^\<([^>]+)\>d__ ]] && [[ $member == MoveNext || $member == \<\>m__Finally* ]]; then kind=iterator-body; name=${BASH_REMATCH[1]}
  elif [[ $member == \<* || -n $owner ]]; then echo "$m" >>"$work/noise.txt"; continue   # <>c caches, closures' and iterators' plumbing, <Clone>$
  else kind=method; name=${member#[gs]et_}; fi
  files=$(type_files "$type" || true)
  if [[ $(wc -l <<<"$files") -gt 1 ]]; then                               # partial type: the parts that hold this body
    narrowed=$(for f in $files; do if holds "$f" "$type" "$name"; then echo "$f"; fi; done)
    [[ -n $narrowed ]] && files=$narrowed
  fi
  [[ -z $files ]] && files="?($type)"
  for f in $files; do printf '%s\t%s\t%s\t%s\n' "${f#"$repo"/}" "$kind" "$key" "$m" >>"$work/rows.txt"; done
done <"$work/path.txt"

cut -f2,3 "$work/rows.txt" | sort -u >"$work/methods.txt"               # kind<TAB>source method
n() { grep -c "$@" "$work/methods.txt" || true; }
echo
echo "repository: $repo ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')); CPU: $(lscpu | sed -n 's/^Model name: *//p')"
cat "$work/jit.txt.out" "$work/jit-nopdb.txt.out"
echo "ApplyInit(InitScheme.HeNormal) on nn.Linear(8, 4) needs TorchInit.pdb: $pdb"
echo "TorchInit.* names JIT-compiled between the markers: $(wc -l <"$work/path.txt")"
echo "files: $(cut -f1 "$work/rows.txt" | sort -u | wc -l)"
echo "methods: $(n -v $'^lambda\t') (of them $(n ':\.ctor(') constructors, $(n ':\.cctor(') static constructors, $(n -E ':[gs]et_') property accessors, $(n $'^local-function\t') local functions, $(n $'^iterator-body\t') iterator bodies)"
echo "lambdas: $(n $'^lambda\t')"
echo "compiler-generated, not counted: $(wc -l <"$work/noise.txt"): $(tr '\n' ' ' <"$work/noise.txt")"
echo "--- files (distinct methods and lambdas in each)"
cut -f1,3 "$work/rows.txt" | sort -u | cut -f1 | uniq -c
echo "--- methods in the order first compiled (file, kind, JIT name)"
cut -f1,2,4 "$work/rows.txt"
