#!/usr/bin/env bash
# ppc64le-objdump-check.sh CHECKER WORKDIR
# Cross-checks uptrace's ppc64le decoder against binutils over a whole
# library: downloads Debian 12's libc6:ppc64el (private apt state, the host's
# dpkg untouched) into WORKDIR, disassembles its libc.so.6 with
# powerpc64le-linux-gnu-objdump -d, and runs CHECKER
# (tools/ppc64le-objdump-check, built for the host) over the listing: every
# instruction boundary and length must agree, and every branch, trap,
# load-reserve, store-conditional and system call must be classified as
# objdump names it. Prints the counts; the status is the checker's.
set -euo pipefail
checker=$1 wd=$(realpath -m "$2")
here=$(dirname "$(realpath "$0")")
mkdir -p "$wd/debs"
A() { "$here/apt-foreign.sh" ppc64el bookworm "$wd/apt" "$@"; }
if [ ! -e "$wd/.fetched" ]; then
  A update >"$wd/apt-update.log" 2>&1 ||
    echo "ppc64le-objdump-check.sh: apt-get update reported errors (see $wd/apt-update.log), continuing" >&2
  rm -f "$wd"/debs/*.deb
  (cd "$wd/debs" && A download libc6 >"$wd/apt-download.log" 2>&1) ||
    { echo "ppc64le-objdump-check.sh: download failed:" >&2; tail -20 "$wd/apt-download.log" >&2; exit 1; }
  rm -rf "$wd/root"
  dpkg -x "$wd"/debs/libc6_*.deb "$wd/root"
  touch "$wd/.fetched"
fi
libc=$(find "$wd/root" -name libc.so.6 | head -1)
[ -n "$libc" ] || { echo "ppc64le-objdump-check.sh: no libc.so.6 in $wd/root" >&2; exit 1; }
echo "ppc64le-objdump-check.sh: $(basename "$(ls "$wd"/debs/libc6_*.deb)"): $libc"
powerpc64le-linux-gnu-objdump -d "$libc" > "$wd/libc.dis"
"$checker" < "$wd/libc.dis"
