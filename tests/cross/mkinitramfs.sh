#!/usr/bin/env bash
# mkinitramfs.sh OUT.cpio.gz BUSYBOX STAGE_DIR
# Packs a tiny initramfs: busybox-static as the only userland, the files of
# STAGE_DIR at the same paths (the tests, their libraries and /t/run-tests),
# and an /init that mounts the pseudo file systems, runs /t/run-tests between
# markers and powers the VM off:
#   === XA-BOOTED uptime=... kernel=... arch=... ===
#   === XA-DONE rc=N uptime=... ===
# Adapted from the recipe in shared/crossarch (mkinitramfs.sh; no 9p modules).
set -euo pipefail
out=$(realpath -m "$1") bb=$2 stage=$3
root=$(mktemp -d "${TMPDIR:-/tmp}/uptrace-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
cp -a "$stage/." "$root/"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,root}
cp "$bb" "$root/bin/busybox"
ln -sf busybox "$root/bin/sh"
[ -e "$root/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
[ -e "$root/etc/group" ] || printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 644 "$root/etc/passwd" "$root/etc/group"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# A checkout under /tmp puts the targets' sources there (the tests read
# them at their build paths); a tmpfs mounted over it would hide them, and
# the initramfs root is writable memory already.
[ -z "$(ls -A /tmp)" ] && mount -t tmpfs tmpfs /tmp
export PATH=/bin:/sbin HOME=/root
echo "=== XA-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) arch=$(uname -m) ==="
cd /t
rc=0
/t/run-tests || rc=$?
echo "=== XA-DONE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime) ==="
sync
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1 > "$out")
echo "mkinitramfs.sh: wrote $out ($(( $(stat -c %s "$out") / 1024 )) KiB)"
