#!/usr/bin/env bash
# tests/cross/riscv64-objdump-check.sh [--corpus FILE] - uptrace's RISC-V
# decoder against GNU objdump (riscv64-linux-gnu-objdump, Debian 12's
# binutils-riscv64-linux-gnu 2.40), over:
#   1. a whole riscv64 libc.so.6 (Debian 13's libc6:riscv64, downloaded with a
#      private apt state: the host's dpkg is not touched), objdump -d;
#   2. every 16-bit parcel (the whole compressed encoding space, reserved
#      encodings and HINTs included), as a raw binary;
#   3. a million random 32-bit words (a fixed seed), as a raw binary;
#   4. every Zba, Zbb and Zbs instruction, assembled with those extensions
#      (objdump decodes them only then). Zicond needs binutils 2.41.
# Each is compared by riscv64-objdump-check (tests/unit/arch/riscv64/
# objdump_check.h): instruction boundaries and lengths, the class of every
# branch, jump, auipc, SYSTEM instruction, lr and sc, and the text. The only
# differences allowed are the documented ones the tool lists. Exit status 0
# when there is no other.
# --corpus FILE also writes the sample the unit tests check on every host
# (tests/unit/arch/riscv64/corpus/objdump.txt): a few lines of each mnemonic
# and form from all three.
# Environment: UPTRACE_OBJDUMP_CHECK (the riscv64-objdump-check binary; by
# default it is built in build-rel/), UPTRACE_CROSS_DIR (cache, default
# build-cross/riscv64).
set -euo pipefail
die() { echo "riscv64-objdump-check.sh: $*" >&2; exit 1; }
corpus=""
[ "${1:-}" = --corpus ] && { corpus=$(realpath -m "$2"); shift 2; }
[ $# -eq 0 ] || die "usage: tests/cross/riscv64-objdump-check.sh [--corpus FILE]"
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(realpath -m "${UPTRACE_CROSS_DIR:-$repo/build-cross/riscv64}")/objdump
mkdir -p "$work"

missing=()
for p in binutils-riscv64-linux-gnu python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null || echo "riscv64-objdump-check.sh: apt-get update failed; trying with the index we have" >&2
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
objdump=riscv64-linux-gnu-objdump

check=${UPTRACE_OBJDUMP_CHECK:-}
if [ -z "$check" ]; then
  cmake -S "$repo" -B "$repo/build-rel" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$repo/build-rel" --target riscv64-objdump-check -j"$(nproc)" >/dev/null
  check=$repo/build-rel/tests/unit/arch/riscv64-objdump-check
fi
[ -x "$check" ] || die "no riscv64-objdump-check at $check"

# 1. libc.so.6 from Debian 13 (cached).
libc=$work/libc/usr/lib/riscv64-linux-gnu/libc.so.6
if [ ! -f "$libc" ]; then
  apt_state=$work/apt
  "$repo/tests/cross/apt-foreign.sh" riscv64 trixie "$apt_state" update >"$work/apt-update.log" 2>&1 ||
    echo "riscv64-objdump-check.sh: apt-get update reported errors (see $work/apt-update.log), continuing" >&2
  rm -f "$work"/libc6_*.deb
  (cd "$work" && "$repo/tests/cross/apt-foreign.sh" riscv64 trixie "$apt_state" download libc6 >"$work/apt-download.log" 2>&1) ||
    { tail -5 "$work/apt-download.log" >&2; die "cannot download libc6:riscv64"; }
  rm -rf "$work/libc"
  dpkg -x "$work"/libc6_*.deb "$work/libc"
fi
[ -f "$libc" ] || die "no libc.so.6 in $work/libc"

# 2 and 3: the raw encodings.
python3 - "$work" <<'PY'
import random, struct, sys
work = sys.argv[1]
with open(f"{work}/parcels16.bin", "wb") as f:
    f.write(b"".join(struct.pack("<H", p) for p in range(65536) if p & 3 != 3))
rng = random.Random(16)
words = []
while len(words) < 1000000:
    w = rng.getrandbits(32) | 3
    if w & 0x1c != 0x1c:  # a 32-bit instruction, not a longer one
        words.append(struct.pack("<I", w))
with open(f"{work}/random32.bin", "wb") as f:
    f.write(b"".join(words))
PY

cat > "$work/zb.S" <<'ASM'
sh1add a0,a1,a2; sh2add a0,a1,a2; sh3add t0,t1,t2; add.uw a0,a1,a2; zext.w a0,a1
sh1add.uw a0,a1,a2; sh2add.uw s0,s1,s2; sh3add.uw a0,a1,a2; slli.uw a0,a1,33; slli.uw a0,a1,0
andn a0,a1,a2; orn a0,a1,a2; xnor a0,a1,a2; clz a0,a1; ctz a0,a1; cpop a0,a1; clzw a0,a1; ctzw a0,a1
cpopw a0,a1; max a0,a1,a2; maxu a0,a1,a2; min a0,a1,a2; minu a0,a1,a2; sext.b a0,a1; sext.h a0,a1
zext.h a0,a1; rol a0,a1,a2; rolw a0,a1,a2; ror a0,a1,a2; rorw a0,a1,a2; rori a0,a1,63; roriw a0,a1,31
orc.b a0,a1; rev8 a0,a1; bclr a0,a1,a2; bclri a0,a1,63; bext a0,a1,a2; bexti a0,a1,5; binv a0,a1,a2
binvi a0,a1,40; bset a0,a1,a2; bseti a0,a1,1
ASM
riscv64-linux-gnu-as -march=rv64gc_zba_zbb_zbs -o "$work/zb.o" "$work/zb.S"

status=0
run() {  # NAME LISTING: check one listing
  local name=$1 listing=$2 start
  start=$(date +%s.%N)
  echo "=== $name"
  "$check" --text < "$listing" || status=1
  echo "($(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $start}") s)"
}
$objdump -d "$libc" > "$work/libc.dis"
echo "libc: $(dpkg-deb -f "$work"/libc6_*.deb Package Version Architecture 2>/dev/null | tr '\n' ' ')"
run "libc.so.6 (objdump -d)" "$work/libc.dis"
$objdump -D -b binary -m riscv:rv64 "$work/parcels16.bin" > "$work/parcels16.dis"
run "every 16-bit parcel" "$work/parcels16.dis"
$objdump -D -b binary -m riscv:rv64 "$work/random32.bin" > "$work/random32.dis"
run "1000000 random 32-bit words" "$work/random32.dis"
$objdump -d "$work/zb.o" > "$work/zb.dis"
run "Zba, Zbb, Zbs" "$work/zb.dis"

if [ -n "$corpus" ]; then
  # A few lines of each mnemonic and length from each listing, with the
  # section header that separates them (addresses restart per listing).
  {
    echo "# objdump -d lines the unit tests decode again (tests/unit/arch/riscv64/test_objdump_corpus.cpp)."
    echo "# Made by tests/cross/riscv64-objdump-check.sh --corpus with $($objdump --version | head -1)"
    echo "# from libc6:riscv64 $(dpkg-deb -f "$work"/libc6_*.deb Version), every 16-bit parcel, random 32-bit words"
    echo "# and the Zba/Zbb/Zbs instructions."
    for l in libc parcels16 random32 zb; do
      echo
      echo "Disassembly of section $l:"
      awk -F'\t' -v per=$([ $l = random32 ] && echo 2 || echo 4) '
        NF >= 3 && $1 ~ /^ *[0-9a-f]+:$/ {
          b = $2; gsub(/ /, "", b); key = $3 "/" length(b)
          if (seen[key]++ < per) print
        }' "$work/$l.dis"
    done
  } > "$corpus"
  echo "wrote $corpus ($(grep -c $'^ *[0-9a-f]*:\t' "$corpus") instructions)"
fi
exit $status
