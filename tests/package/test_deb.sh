#!/usr/bin/env bash
# The Debian package (README "Packaging"): built with `cpack -G DEB` from the
# build folder, its contents and control fields read with dpkg-deb, then
# installed into a scratch root by dpkg (a database of its own there), where
# the program runs, its man page reads and its bash completion is the one in
# the source tree; then purged.
#   test_deb.sh BUILD_DIR SOURCE_DIR VERSION TARGET_DIR
set -euo pipefail
build=$1 src=$2 version=$3 targets=$4
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cpack -G DEB -B "$scratch/out" --config "$build/CPackConfig.cmake" > "$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log"; fail "cpack -G DEB failed"; }
arch=$(dpkg --print-architecture)
deb=$scratch/out/uptrace_${version}_${arch}.deb
[ -f "$deb" ] || { ls "$scratch/out"; fail "no $deb"; }
echo "ok: built $(basename "$deb")"

# Exactly these files (directories aside).
files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sort | tr '\n' ' ')
expected="./usr/bin/uptrace ./usr/share/bash-completion/completions/uptrace ./usr/share/doc/uptrace/copyright ./usr/share/man/man1/uptrace.1.gz "
[ "$files" = "$expected" ] || fail "files: '$files', expected '$expected'"
echo "ok: files $files"

[ "$(dpkg-deb -f "$deb" Package)" = uptrace ] || fail "Package: $(dpkg-deb -f "$deb" Package)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version: $(dpkg-deb -f "$deb" Version)"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "Architecture: $(dpkg-deb -f "$deb" Architecture)"
# Computed by dpkg-shlibdeps from what the binary links to.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libstdc++6 libelf1 libdw1 libcapstone4 libfmt9; do
  [[ ", $depends," == *", $lib "* ]] || fail "Depends lacks $lib: $depends"
done
echo "ok: Depends: $depends"

# Installed by dpkg into a scratch root with a dpkg database of its own, as
# apt would install it on the host; its dependencies are the host's, which
# that database does not know, hence --force-depends.
root=$scratch/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
dpkg_root() { dpkg --root="$root" --log=/dev/null --force-not-root "$@"; }
dpkg_root --force-depends -i "$deb" > "$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; fail "dpkg -i failed"; }
[ "$(dpkg_root -s uptrace | sed -n 's/^Status: //p')" = "install ok installed" ] ||
  fail "not installed: $(dpkg_root -s uptrace 2>&1)"
dpkg_root -L uptrace | grep -qx /usr/bin/uptrace || fail "dpkg -L does not list /usr/bin/uptrace"
echo "ok: installed into $root"
got=$("$root/usr/bin/uptrace" --version)
[ "$got" = "uptrace $version" ] || fail "--version: '$got'"
got=$("$root/usr/bin/uptrace" --list tick -x "$targets/target-sdt")
[[ $got == "tick 0x"*" $targets/target-sdt" ]] || fail "--list from the package: '$got'"
echo "ok: the unpacked uptrace runs"
cmp <(gzip -dc "$root/usr/share/man/man1/uptrace.1.gz") "$src/man/uptrace.1" || fail "the man page differs"
man -l "$root/usr/share/man/man1/uptrace.1.gz" 2>/dev/null | grep -Eq "^ +uptrace +- +trace" || fail "the man page does not read"
cmp "$root/usr/share/bash-completion/completions/uptrace" "$src/completion/uptrace.bash" ||
  fail "the bash completion differs"
cmp "$root/usr/share/doc/uptrace/copyright" "$src/LICENSE" || fail "the copyright file differs"
echo "ok: man page, completion and copyright"

# And removed again: nothing of it is left.
dpkg_root --purge uptrace > "$scratch/dpkg.log" 2>&1 || { cat "$scratch/dpkg.log"; fail "dpkg --purge failed"; }
left=$(find "$root" -path "$root/var" -prune -o -type f -print)
[ -z "$left" ] || fail "left after --purge: $left"
echo "ok: purged"
