#!/usr/bin/env bash
# mk-trixie-chroot.sh DIR - the build environment of the riscv64 stage
# (tests/cross/run riscv64): an amd64 Debian 13 (trixie) chroot with trixie's
# riscv64 cross compiler (g++ 14) and the riscv64 dev packages uptrace builds
# against, installed as multiarch packages (lib*-dev:riscv64).
#
# Why a chroot: Debian 12 has g++-riscv64-linux-gnu but no riscv64 packages
# at all (no libelf, libdw, capstone, kernel or busybox), and its binutils
# 2.40 cannot link trixie's riscv64 static libraries (shared/crossarch).
# Catch2 is v3 in trixie; the tests are written for v2, so Debian 12's
# catch2 package (header-only, from the host's own apt) is unpacked into
# DIR/opt/catch2-v2.
#
# Made once and reused: DIR/.complete is written last. About 2 minutes and
# 1 GB (mmdebstrap, as root, from deb.debian.org).
set -euo pipefail
die() { echo "mk-trixie-chroot.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: mk-trixie-chroot.sh DIR"
dir=$(realpath -m "$1")
[ -e "$dir/.complete" ] && { echo "mk-trixie-chroot.sh: $dir is ready"; exit 0; }
[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap --mode=root, and chroot to build in it)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed"

pkgs=(
  # the cross toolchain and the build tools (amd64)
  g++-riscv64-linux-gnu binutils-riscv64-linux-gnu cmake make pkgconf
  # what uptrace links against, as riscv64 static libraries
  libelf-dev:riscv64 libdw-dev:riscv64 libcapstone-dev:riscv64 zlib1g-dev:riscv64 liblzma-dev:riscv64
  libbz2-dev:riscv64 libzstd-dev:riscv64 libfmt-dev:riscv64 libc6-dev:riscv64 libstdc++-14-dev:riscv64
  # header-only libraries
  nlohmann-json3-dev libcli11-dev
  # <sys/sdt.h>, for the test program with USDT markers (its path is per
  # architecture: /usr/include/riscv64-linux-gnu/sys/sdt.h)
  systemtap-sdt-dev:riscv64
)
# (The riscv64 programs the VM needs besides the tests, busybox and setpriv,
# come from tests/cross/fetch-arch.sh: util-linux is Essential and
# Multi-Arch: foreign, so its riscv64 build cannot be installed here.)
rm -rf "$dir.tmp"
# The -updates index of a foreign architecture is sometimes served stale
# (shared/crossarch): the main suite is enough.
mmdebstrap --mode=root --variant=apt --architectures=amd64,riscv64 \
  --include="$(IFS=,; echo "${pkgs[*]}")" \
  trixie "$dir.tmp" "deb http://deb.debian.org/debian trixie main"

# Catch2 v2 from the host's Debian 12 archive.
deb=$(mktemp -d "${TMPDIR:-/tmp}/catch2.XXXXXX")
trap 'rm -rf "$deb"' EXIT
(cd "$deb" && apt-get download -q catch2 >/dev/null) || die "cannot download Debian 12's catch2"
dpkg -x "$deb"/catch2_*.deb "$dir.tmp/opt/catch2-v2"
[ -f "$dir.tmp/opt/catch2-v2/usr/lib/cmake/Catch2/Catch2Config.cmake" ] || die "no Catch2Config.cmake in catch2"
[ -f "$dir.tmp/opt/catch2-v2/usr/include/catch2/catch.hpp" ] || die "catch2 is not Catch2 v2"

rm -rf "$dir"
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
echo "mk-trixie-chroot.sh: $dir ready ($(du -sh "$dir" | cut -f1))"
