# Cross-compiling uptrace for ppc64le (ELFv2) Linux on a Debian x86-64 host
# (tests/cross/run ppc64le uses it):
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/powerpc64le-linux-gnu.cmake \
#         -DUPTRACE_CROSS_SYSROOT=DIR -DUPTRACE_STATIC=ON ...
# Compiler: Debian's g++-powerpc64le-linux-gnu (its glibc is in /usr/powerpc64le-linux-gnu).
# UPTRACE_CROSS_SYSROOT: a directory holding the ppc64el dev packages uptrace
# builds against, unpacked with dpkg -x (libelf-dev, libdw-dev,
# libcapstone-dev, zlib1g-dev, liblzma-dev, libbz2-dev, libzstd-dev,
# libfmt-dev, libfmt9, nlohmann-json3-dev, libcli11-dev, catch2): see
# tests/cross/fetch-arch.sh. It is not a full sysroot, so it is not passed as
# --sysroot; headers and libraries are found through -I/-L and the find paths.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(CMAKE_LIBRARY_ARCHITECTURE powerpc64le-linux-gnu)
set(CMAKE_C_COMPILER powerpc64le-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER powerpc64le-linux-gnu-g++)
set(CMAKE_ASM_COMPILER powerpc64le-linux-gnu-gcc)

if(NOT UPTRACE_CROSS_SYSROOT AND DEFINED ENV{UPTRACE_CROSS_SYSROOT})
  set(UPTRACE_CROSS_SYSROOT "$ENV{UPTRACE_CROSS_SYSROOT}")
endif()
if(NOT UPTRACE_CROSS_SYSROOT OR NOT IS_DIRECTORY "${UPTRACE_CROSS_SYSROOT}/usr/include")
  message(FATAL_ERROR "UPTRACE_CROSS_SYSROOT must name the unpacked ppc64el dev packages "
                      "(tests/cross/fetch-arch.sh), not '${UPTRACE_CROSS_SYSROOT}'")
endif()
# try_compile projects read this file again: hand the variable down.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES UPTRACE_CROSS_SYSROOT)
# Environment for the try_compile projects too (they do not see cache variables).
set(ENV{UPTRACE_CROSS_SYSROOT} "${UPTRACE_CROSS_SYSROOT}")

set(_uptrace_libdir "${UPTRACE_CROSS_SYSROOT}/usr/lib/powerpc64le-linux-gnu")
set(CMAKE_C_FLAGS_INIT "-I${UPTRACE_CROSS_SYSROOT}/usr/include")
set(CMAKE_CXX_FLAGS_INIT "-I${UPTRACE_CROSS_SYSROOT}/usr/include")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L${_uptrace_libdir}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-L${_uptrace_libdir}")

# Libraries, headers and cmake packages only from the target's files;
# programs (pkg-config, nm) from the host.
set(CMAKE_FIND_ROOT_PATH "${UPTRACE_CROSS_SYSROOT}" /usr/powerpc64le-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the target's .pc files and prefixes their paths.
set(ENV{PKG_CONFIG_LIBDIR} "${_uptrace_libdir}/pkgconfig:${UPTRACE_CROSS_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${UPTRACE_CROSS_SYSROOT}")
unset(ENV{PKG_CONFIG_PATH})
