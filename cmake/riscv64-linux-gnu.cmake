# Cross-compiling uptrace for riscv64 Linux (RV64GC, lp64d), as
# tests/cross/run riscv64 does inside its Debian 13 chroot
# (tests/cross/mk-trixie-chroot.sh):
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/riscv64-linux-gnu.cmake \
#         -DUPTRACE_STATIC=ON -DUPTRACE_ELFUTILS_SEARCH_SHIM=ON ...
# Compiler: Debian's g++-riscv64-linux-gnu. The riscv64 dev packages are
# multiarch ones (libelf-dev:riscv64, ...): headers in /usr/include, libraries
# and pkg-config files in /usr/lib/riscv64-linux-gnu, where the cross
# compiler looks by itself; there is no separate sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_LIBRARY_ARCHITECTURE riscv64-linux-gnu)
set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)

# pkg-config reads only the riscv64 .pc files (and the architecture-
# independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/riscv64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})
# Programs (pkg-config) from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
