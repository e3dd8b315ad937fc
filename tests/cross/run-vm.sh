#!/usr/bin/env bash
# run-vm.sh ARCH KERNEL INITRD LOG TIMEOUT_S [KERNEL_ARGS...]
# Boots KERNEL + INITRD under qemu-system (TCG: there is no KVM), with the
# serial console in LOG, and returns the status /init printed in its
# "=== XA-DONE rc=N" marker: 124 after TIMEOUT_S, 3 when the marker is missing
# (kernel panic, /init failure). Extra KERNEL_ARGS (KEY=VALUE) reach /init's
# environment. Adapted from the recipe in shared/crossarch (run-vm.sh).
#   ARCH: aarch64, ppc64le, riscv64
# -smp 1 on purpose: with -smp 2 a ptrace round trip is ~10x slower on
# aarch64 (MTTCG, tracer and tracee on different vCPUs). -cpu max with
# pauth-impdef=on: plain max emulates QARMA pointer authentication, 3x slower
# to boot. -nic none: no ipxe ROM needed. XA_SMP overrides the vCPUs (bench/vm's
# jump rows: no ptrace per hit, and uptrace's reader drains on its own vCPU).
set -uo pipefail
arch=$1 kernel=$2 initrd=$3 log=$4 tmo=$5; shift 5
app="rdinit=/init panic=-1 loglevel=3 $*"
common=(-smp "${XA_SMP:-1}" -m "${XA_MEM:-1024}" -nographic -no-reboot -nic none -kernel "$kernel" -initrd "$initrd")
case $arch in
  aarch64) cmd=(qemu-system-aarch64 -M virt -cpu "${XA_CPU:-max,pauth-impdef=on}" "${common[@]}"
                -append "console=ttyAMA0 $app");;
  # pseries with SLOF firmware; -vga none, or it looks for a VGA ROM.
  ppc64le) cmd=(qemu-system-ppc64 -M pseries -cpu "${XA_CPU:-power9}" -vga none "${common[@]}"
                -append "console=hvc0 $app");;
  # OpenSBI (qemu-system-data's) as the firmware; Debian's riscv64 kernel
  # image is an EFI/Image file that -kernel takes as it is.
  riscv64) cmd=(qemu-system-riscv64 -M virt -cpu "${XA_CPU:-rv64}" -bios default "${common[@]}"
                -append "console=ttyS0 $app");;
  *) echo "run-vm.sh: unknown arch $arch" >&2; exit 2;;
esac
# stdin from /dev/null: CI has no terminal; -nographic puts the serial port on stdio.
timeout --foreground --kill-after=10 "$tmo" "${cmd[@]}" </dev/null >"$log" 2>&1
qrc=$?
[ "$qrc" = 124 ] || [ "$qrc" = 137 ] && { echo "run-vm.sh: qemu timed out after ${tmo}s" >&2; exit 124; }
rc=$(tr -d '\r' < "$log" | sed -n 's/.*=== XA-DONE rc=\([0-9]*\).*/\1/p' | tail -1)
[ -z "$rc" ] && { echo "run-vm.sh: no XA-DONE marker (qemu status $qrc; kernel panic or /init failure?)" >&2; exit 3; }
exit "$rc"
