#!/usr/bin/env bash
# Checks the actionable native-load error for real: runs the demo against Debian 12's own libstdc++
# (GCC 12, no GLIBCXX_3.4.32) through LD_LIBRARY_PATH, and expects TorchInit's message to name the
# missing symbol and the fix instead of TorchSharp's bare TypeInitializationException. Debian only.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
if ! (cd "$tmp" && apt-get download -qq libstdc++6/bookworm 2>/dev/null); then
  apt-get update -qq
  (cd "$tmp" && apt-get download -qq libstdc++6/bookworm)
fi
dpkg -x "$tmp"/libstdc++6_*.deb "$tmp/root"
old=$(dirname "$(find "$tmp/root" -name 'libstdc++.so.6' | head -n1)")
bash scripts/pack-local.sh   # the demo consumes TorchInit as a package from ./local-feed (empty in a fresh clone)
dotnet build examples/TorchInit.Demo -c Release -nologo -v q
set +e
LD_LIBRARY_PATH="$old" dotnet examples/TorchInit.Demo/bin/Release/net10.0/TorchInit.Demo.dll >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q "GLIBCXX_3.4.32' not found" "$tmp/err" && grep -q "scripts/prereqs.sh" "$tmp/err" \
   && grep -q "$old" "$tmp/err"; then
  echo "native load error check: ok (the demo names GLIBCXX_3.4.32, $old and scripts/prereqs.sh)"
else
  echo "native load error check: FAILED (exit $rc); stderr was:" >&2
  cat "$tmp/err" >&2
  exit 1
fi
