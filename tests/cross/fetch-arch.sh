#!/usr/bin/env bash
# fetch-arch.sh DEBARCH WORKDIR
# Downloads from Debian's archive, with a private apt state (the host's dpkg is
# not touched, no multiarch), and extracts into WORKDIR:
#   WORKDIR/kernel     the Debian kernel image for qemu -kernel
#   WORKDIR/busybox    busybox-static for the target
#   WORKDIR/sysroot/   dpkg -x of the target's dev packages (headers, .a, cmake
#                      and pkg-config files) that uptrace builds against
#   WORKDIR/runtime/   dpkg -x of the target programs the VM needs (setpriv)
#   WORKDIR/.fetched   written last: the cache is complete
# DEBARCH: arm64 or ppc64el (Debian 12, bookworm), riscv64 (Debian 13,
# trixie; no sysroot). Adapted from the recipe in
# shared/crossarch (fetch-arch.sh), which also covers ppc64el and riscv64.
set -euo pipefail
arch=$1 wd=$(realpath -m "$2")
here=$(dirname "$(realpath "$0")")
# Static libraries of libelf/libdw and what libdw.a needs (z, lzma, bz2, zstd),
# capstone, and the header/cmake packages of the build (fmt is used
# header-only: bookworm ships no libfmt.a, but its cmake config needs libfmt9).
# systemtap-sdt-dev: <sys/sdt.h>, for the test program with USDT markers.
devpkgs="libelf-dev libdw-dev libcapstone-dev zlib1g-dev liblzma-dev libbz2-dev libzstd-dev
         libfmt-dev libfmt9 nlohmann-json3-dev libcli11-dev catch2 systemtap-sdt-dev"
case $arch in
  arm64) suite=bookworm kflavour=linux-image-arm64;;
  ppc64el) suite=bookworm kflavour=linux-image-powerpc64le;;
  # Debian 12 has no riscv64 port: Debian 13's kernel and busybox. Its dev
  # packages are installed in the build chroot instead
  # (tests/cross/mk-trixie-chroot.sh): no sysroot here.
  riscv64) suite=trixie kflavour=linux-image-riscv64 devpkgs="";;
  *) echo "fetch-arch.sh: unsupported Debian architecture '$arch'" >&2; exit 2;;
esac
# Programs the tests run inside the VM besides busybox: setpriv (util-linux),
# for the test that ptraces without permission.
rtpkgs="util-linux libcap-ng0"
aptd=$wd/apt
A() { "$here/apt-foreign.sh" "$arch" "$suite" "$aptd" "$@"; }
rm -f "$wd/.fetched"
mkdir -p "$wd/debs"
# The -updates index is sometimes served stale by the mirror ("File has
# unexpected size ... Mirror sync in progress?"): tolerate that, the main
# suite's index is enough; a missing package fails the download below.
A update >"$wd/apt-update.log" 2>&1 ||
  echo "fetch-arch.sh: apt-get update reported errors (see $wd/apt-update.log), continuing" >&2
kpkg=$(A apt-cache depends "$kflavour" | awk '/Depends: linux-image-/{print $2; exit}')
[ -n "$kpkg" ] || { echo "fetch-arch.sh: no kernel package behind $kflavour (see $wd/apt-update.log)" >&2; exit 1; }
echo "fetch-arch.sh: kernel package $kpkg"
rm -f "$wd"/debs/*.deb
# shellcheck disable=SC2086
if ! (cd "$wd/debs" && A download "$kpkg" busybox-static $devpkgs $rtpkgs >"$wd/apt-download.log" 2>&1); then
  echo "fetch-arch.sh: download failed:" >&2; tail -20 "$wd/apt-download.log" >&2; exit 1
fi
rm -rf "$wd/kpkg" "$wd/bbpkg" "$wd/sysroot" "$wd/runtime"
# Only the kernel image is needed from the kernel package (no modules: the
# initramfs needs none), which saves most of the extraction time.
mkdir -p "$wd/kpkg"
dpkg-deb --fsys-tarfile "$wd"/debs/linux-image-*.deb | tar -x -C "$wd/kpkg" --wildcards './boot/vmlinu*'
dpkg -x "$wd"/debs/busybox-static_*.deb "$wd/bbpkg"
for d in "$wd"/debs/*.deb; do
  case $(basename "$d") in
    linux-image-*|busybox-static_*) ;;
    util-linux_*|libcap-ng0_*) dpkg -x "$d" "$wd/runtime";;
    *) dpkg -x "$d" "$wd/sysroot";;
  esac
done
ln -sfn "$(ls "$wd"/kpkg/boot/vmlinu* | head -1)" "$wd/kernel"
ln -sfn "$(find "$wd/bbpkg" -type f -name busybox -path '*bin/*' | head -1)" "$wd/busybox"
[ -s "$wd/kernel" ] && [ -s "$wd/busybox" ] && [ -x "$wd/runtime/usr/bin/setpriv" ] ||
  { echo "fetch-arch.sh: no kernel, busybox or setpriv extracted" >&2; exit 1; }
echo "fetch-arch.sh: $(du -sh "$wd/debs" | cut -f1) of .debs in $wd"
touch "$wd/.fetched"
