#!/usr/bin/env bash
# Installs what TorchInit needs on a Debian machine, idempotently:
#  1. a C++ runtime with GLIBCXX_3.4.32 (TorchSharp 0.107's libLibTorchSharp.so needs it; Debian 12
#     ships GCC 12's libstdc++, which stops at GLIBCXX_3.4.30). On Debian 12 only, and only when the
#     symbol is missing, libstdc++6 is installed from Debian 13 "trixie" with apt pinned so that only it
#     and its dependencies come from trixie. The archive URI is read from this machine's apt sources.
#  2. with --with-pytorch: the reference PyTorch used by scripts/gen_fixtures.py and the twins: Debian 13's
#     python3-torch 2.6 (nearest to TorchSharp's libtorch 2.10), installed with the same pinned apt run, with
#     trixie's python3-sympy (bookworm's is too old for 2.6) and python3-scipy. It pulls python3.13, so
#     /usr/bin/python3 becomes 3.13. An older torch in /usr/bin/python3 is replaced. Then Debian 13's
#     python3-torchvision 0.21 (built against that torch 2.6; scripts/gen_torchvision_fixtures.py uses its model
#     zoo), the same pinned way with --no-install-recommends, unless /usr/bin/python3 already imports torchvision.
# Elsewhere it explains the requirement and exits non-zero.
set -euo pipefail

want_pytorch=0
for a in "$@"; do
  case "$a" in
    --with-pytorch) want_pytorch=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "prereqs.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

SYMBOL=GLIBCXX_3.4.32
say() { echo "prereqs: $*" >&2; }

libstdcxx_path() {
  local p
  for p in /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6 \
           /lib/aarch64-linux-gnu/libstdc++.so.6 /usr/lib/aarch64-linux-gnu/libstdc++.so.6 \
           /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
    [ -e "$p" ] && { echo "$p"; return 0; }
  done
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 /{print $NF; exit}'
}

has_symbol() {
  local lib; lib=$(libstdcxx_path)
  [ -n "$lib" ] && grep -qa "$SYMBOL" "$lib"
}

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# The archive URI this machine already uses for its main Debian suite (never a hard-coded host).
debian_archive_uri() {
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    uri=$(awk '
      /^URIs:/ { u=$2 }
      /^Suites:/ { for (i=2;i<=NF;i++) if ($i=="bookworm") found=1 }
      /^$/ { if (found && u!="") { print u; exit } u=""; found=0 }
      END { if (found && u!="") print u }' "$f" | head -n1)
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -e "$f" ] || continue
    uri=$(awk '$1=="deb" && $0 ~ / bookworm / { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" | head -n1)
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  return 1
}

# apt-get install -t trixie PACKAGES..., with apt pinned to bookworm for everything else.
install_from_trixie() {
  local uri tmp
  uri=$(debian_archive_uri) || { say "could not find this machine's Debian archive URI in its apt sources"; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/lists/partial"
  chmod 755 "$tmp" "$tmp/lists" "$tmp/lists/partial"  # apt drops to the _apt user for downloads
  cat > "$tmp/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
SRC
  local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o "Dir::State::Lists=$tmp/lists" -o APT::Default-Release=bookworm
              -o Dpkg::Options::=--force-confold -o Acquire::Retries=3)
  say "installing $* from trixie (pinned)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y -qq -t trixie "$@" >/dev/null
}

. /etc/os-release 2>/dev/null || true

if has_symbol; then
  say "libstdc++ already provides $SYMBOL"
elif [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
  install_from_trixie libstdc++6   # pulls libc6 and companions
  has_symbol || { say "libstdc++6 from trixie installed but $SYMBOL is still missing"; exit 1; }
  say "libstdc++ now provides $SYMBOL"
else
  cat >&2 <<MSG
prereqs: TorchSharp 0.107's native library (libLibTorchSharp.so) needs a C++ runtime that provides
$SYMBOL (libstdc++ from GCC 13 or newer). This system's libstdc++ ($(libstdcxx_path || echo none))
does not, and this script only knows how to fix that on Debian 12 (bookworm).
Install libstdc++6 from GCC 13+ with your system's package manager, then run this again.
MSG
  exit 1
fi

# The reference PyTorch: 2.6 or newer (1.13's float64 normal_ on small tensors and its erfinv differ from libtorch 2.10).
REF_TORCH_MIN=2.6
torch_version() { /usr/bin/python3 -c 'import torch; print(torch.__version__)' 2>/dev/null; }
torchvision_version() { /usr/bin/python3 -c 'import torchvision; print(torchvision.__version__)' 2>/dev/null; }
torch_is_reference() {
  local v; v=$(torch_version) || return 1
  [ "$(printf '%s\n%s\n' "$REF_TORCH_MIN" "${v%%+*}" | sort -V | head -n1)" = "$REF_TORCH_MIN" ]
}

if [ "$want_pytorch" = 1 ]; then
  if torch_is_reference; then
    say "reference PyTorch present: $(torch_version)"
  elif command -v apt-get >/dev/null && [ "${ID:-}" = debian ]; then
    say "installing Debian 13's python3-torch (reference PyTorch; found: $(torch_version || echo none))"
    install_from_trixie python3-torch python3-sympy python3-scipy
    torch_is_reference || { say "python3-torch from trixie installed but /usr/bin/python3 has torch $(torch_version || echo none)"; exit 1; }
    say "reference PyTorch now: $(torch_version)"
  else
    say "reference PyTorch >= $REF_TORCH_MIN (/usr/bin/python3 with torch) is missing and this script installs it on Debian only"; exit 1
  fi
  if torchvision_version >/dev/null; then
    say "reference torchvision present: $(torchvision_version)"
  elif command -v apt-get >/dev/null && [ "${ID:-}" = debian ]; then
    say "installing Debian 13's python3-torchvision (the model zoo behind scripts/gen_torchvision_fixtures.py)"
    # Its recommends pull dozens of packages the zoo's constructors never use.
    install_from_trixie --no-install-recommends python3-torchvision
    torchvision_version >/dev/null || { say "python3-torchvision from trixie installed but /usr/bin/python3 cannot import torchvision"; exit 1; }
    say "reference torchvision now: $(torchvision_version)"
  else
    say "torchvision (/usr/bin/python3) is missing and this script installs it on Debian only"; exit 1
  fi
fi
