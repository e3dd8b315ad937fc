# Targets that need more than one C file each (included by CMakeLists.txt).

# The instruction classes at probe sites: the driver is built from
# insn_driver.c by the glob above; its functions are in assembly.
if(TARGET target-insn_driver)  # x86-64 only
  target_sources(target-insn_driver PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/insn_classes.S)
endif()
# The sites jump mode relocates (a call, a jcc, a ret before padding, a
# switch): the driver is jump_sites.c, its functions are in assembly.
if(TARGET target-jump_sites)  # x86-64 only
  target_sources(target-jump_sites PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/jump_sites.S)
endif()

# The riscv64 instruction classes: the driver is built from riscv64_driver.c
# by the glob above on riscv64; its functions are in assembly. Elsewhere the
# same program is cross-built when Debian's riscv64-linux-gnu-gcc is there
# (package gcc-riscv64-linux-gnu), for the tests that read it with --explain
# -x / --list -x on any host; without it those tests say they are skipped.
if(TARGET target-riscv64_driver)  # riscv64 only
  target_sources(target-riscv64_driver PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/riscv64_insns.S)
else()
  find_program(UPTRACE_RISCV64_CC riscv64-linux-gnu-gcc)
  if(UPTRACE_RISCV64_CC)
    set(foreign ${CMAKE_CURRENT_BINARY_DIR}/target-riscv64_driver)
    add_custom_command(OUTPUT ${foreign}
                       COMMAND ${UPTRACE_RISCV64_CC} ${UPTRACE_TARGET_FLAGS} -o ${foreign}
                               ${CMAKE_CURRENT_SOURCE_DIR}/riscv64_driver.c ${CMAKE_CURRENT_SOURCE_DIR}/riscv64_insns.S
                       DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/riscv64_driver.c ${CMAKE_CURRENT_SOURCE_DIR}/riscv64_insns.S
                       COMMENT "Cross-building target-riscv64_driver with ${UPTRACE_RISCV64_CC}" VERBATIM)
    add_custom_target(target-riscv64_driver-foreign ALL DEPENDS ${foreign})
  endif()
endif()

# The resolution target again, as a non-PIE executable (load bias 0).
uptrace_target(target-resolve-nopie SOURCES resolve.c OPTIONS -no-pie -fno-pie)

# A shared library of our own and a program linked to it. The library lives
# next to the programs; the build tree's RPATH finds it.
add_library(uptest SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lib/uptest_lib.c)
target_compile_options(uptest PRIVATE ${UPTRACE_TARGET_FLAGS})
set_target_properties(uptest PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(target-uselib PRIVATE uptest)

# C++ names (ns::Bar::run) for MODULE:FUNC parsing and resolution.
uptrace_target(target-cxx_names SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cxx_names.cpp)

# DWARF variables at two more optimisation levels: -O0 keeps every variable
# in its stack slot; -O2 (with inlining back on) moves them into registers
# and location lists, and inlines scale() into its callers.
uptrace_target(target-dwarf_vars-O0 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dwarf_vars.c OPTIONS -O0)
uptrace_target(target-dwarf_vars-O2 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dwarf_vars.c OPTIONS -O2 -finline
               -finline-small-functions)
# The same program without its DWARF, made here rather than by the test so the
# test needs no binutils where it runs (the cross VM has none).
add_custom_command(TARGET target-dwarf_vars-O2 POST_BUILD
                   COMMAND ${CMAKE_OBJCOPY} --strip-debug $<TARGET_FILE:target-dwarf_vars-O2>
                           ${CMAKE_CURRENT_BINARY_DIR}/target-dwarf_vars-O2-nodebug
                   VERBATIM)
# Return probes (FUNC%return) at each optimisation level the tests cover:
# the glob above builds target-returns with the default flags (-O1).
uptrace_target(target-returns-O0 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/returns.c OPTIONS -O0)
# Without DWARF ($retval stays the raw register), made here for the same
# reason as target-dwarf_vars-O2-nodebug.
add_custom_command(TARGET target-returns-O0 POST_BUILD
                   COMMAND ${CMAKE_OBJCOPY} --strip-debug $<TARGET_FILE:target-returns-O0>
                           ${CMAKE_CURRENT_BINARY_DIR}/target-returns-O0-nodebug
                   VERBATIM)
uptrace_target(target-returns-O2 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/returns.c OPTIONS -O2)
# aarch64, where %return reads where the prologue saves x30 from the CFI: the
# same program with its return addresses signed (pointer authentication,
# refused), and without any call-frame information (refused too).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  uptrace_target(target-returns-pac SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/returns.c OPTIONS -mbranch-protection=pac-ret)
  uptrace_target(target-returns-nocfi SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/returns.c
                 OPTIONS -g0 -fno-asynchronous-unwind-tables -fno-unwind-tables)
endif()
# C++ exceptions through probed frames.
uptrace_target(target-throws SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/throws.cpp)
uptrace_target(target-throws-O0 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/throws.cpp OPTIONS -O0)
uptrace_target(target-throws-O2 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/throws.cpp OPTIONS -O2)

# A function GCC splits into a hot part and FUNC.cold (at -O2).
uptrace_target(target-coldsplit-O2 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/coldsplit.c OPTIONS -O2)

# USDT markers (<sys/sdt.h>, Debian's systemtap-sdt-dev; in the cross
# sysroot too, tests/cross/fetch-arch.sh). The glob above builds target-sdt
# from sdt.c; its marker with a semaphore is in a file of its own.
find_path(UPTRACE_SDT_INCLUDE_DIR sys/sdt.h)
if(NOT UPTRACE_SDT_INCLUDE_DIR)
  message(FATAL_ERROR "the test programs need <sys/sdt.h>: install systemtap-sdt-dev (scripts/install-deps does), "
                      "or configure with -DUPTRACE_TESTS=OFF")
endif()
target_sources(target-sdt PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/sdt/guarded.c)
target_include_directories(target-sdt PRIVATE ${UPTRACE_SDT_INCLUDE_DIR})
# Unoptimised, every argument is in memory (-4@-20(%rbp), 8@[sp, 16]).
uptrace_target(target-sdt-O0 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/sdt.c ${CMAKE_CURRENT_SOURCE_DIR}/sdt/guarded.c
               OPTIONS -O0)
target_include_directories(target-sdt-O0 PRIVATE ${UPTRACE_SDT_INCLUDE_DIR})

# Separate debug information (SPEC.md "Debug information"): dwarf_vars with
# its DWARF and .symtab moved out to a debug file, as Debian's -dbgsym
# packages have them, made here with the toolchain's objcopy (the cross VM
# has no binutils).
# - target-dwarf_vars-split: its debug file is in a build-id tree under a
#   root of the tests' own, debug-root/.build-id/75/70...21.debug (the tests
#   point uptrace there with UPTRACE_DEBUG_ROOT); its build-id is set at link
#   time so that the path is known here.
# - target-dwarf_vars-debuglink: no build-id tree has it; its .gnu_debuglink
#   names a file in the .debug folder beside it. It keeps its .symtab (only
#   its DWARF is in the debug file), the other way packages are stripped.
set(UPTRACE_SPLIT_BUILD_ID 757074726163652d73706c69742d62792d696421)  # "uptrace-split-by-id!"
string(SUBSTRING ${UPTRACE_SPLIT_BUILD_ID} 0 2 split_dir)
string(SUBSTRING ${UPTRACE_SPLIT_BUILD_ID} 2 -1 split_rest)
set(split_debug ${CMAKE_CURRENT_BINARY_DIR}/debug-root/.build-id/${split_dir}/${split_rest}.debug)
uptrace_target(target-dwarf_vars-split SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dwarf_vars.c
               OPTIONS -Wl,--build-id=0x${UPTRACE_SPLIT_BUILD_ID})
add_custom_command(TARGET target-dwarf_vars-split POST_BUILD
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/debug-root/.build-id/${split_dir}
                   COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:target-dwarf_vars-split> ${split_debug}
                   COMMAND ${CMAKE_OBJCOPY} --strip-all $<TARGET_FILE:target-dwarf_vars-split>
                   VERBATIM)
set(link_debug ${CMAKE_CURRENT_BINARY_DIR}/.debug/target-dwarf_vars-debuglink.debug)
uptrace_target(target-dwarf_vars-debuglink SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dwarf_vars.c)
add_custom_command(TARGET target-dwarf_vars-debuglink POST_BUILD
                   COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/.debug
                   COMMAND ${CMAKE_OBJCOPY} --only-keep-debug $<TARGET_FILE:target-dwarf_vars-debuglink> ${link_debug}
                   COMMAND ${CMAKE_OBJCOPY} --strip-debug --add-gnu-debuglink=${link_debug}
                           $<TARGET_FILE:target-dwarf_vars-debuglink>
                   VERBATIM)
# ppc64le (ELFv2) functions of known layout (ppc64le/): built natively on
# ppc64le for the tests tagged ONLY_PPC64LE; elsewhere, when Debian's
# g++-powerpc64le-linux-gnu is installed, cross-built as ppc64le-ppc_driver
# for --explain -x of a ppc64le file on another host.
set(UPTRACE_PPC64LE_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ppc64le/ppc_driver.c ${CMAKE_CURRENT_SOURCE_DIR}/ppc64le/ppc_insns.S)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(ppc64le|powerpc64le)$")
  uptrace_target(target-ppc_driver SOURCES ${UPTRACE_PPC64LE_SOURCES})
else()
  find_program(UPTRACE_PPC64LE_CC powerpc64le-linux-gnu-gcc)
  if(UPTRACE_PPC64LE_CC)
    add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/ppc64le-ppc_driver
                       COMMAND ${UPTRACE_PPC64LE_CC} -g -O1 -o ${CMAKE_CURRENT_BINARY_DIR}/ppc64le-ppc_driver
                               ${UPTRACE_PPC64LE_SOURCES}
                       DEPENDS ${UPTRACE_PPC64LE_SOURCES} VERBATIM)
    add_custom_target(ppc64le-ppc_driver ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/ppc64le-ppc_driver)
  endif()
endif()

# Its threads run with a borrowed fs base: no stack protector may read the
# canary through it in between.
if(TARGET target-foreign_tls)
  target_compile_options(target-foreign_tls PRIVATE -fno-stack-protector)
endif()

# Names sharing an address, one a compat symbol version (as glibc's free and
# cfree@GLIBC_2.2.5): glob matches and --list name the address by its
# default name.
add_library(aliases SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lib/aliases_lib.c)
target_compile_options(aliases PRIVATE ${UPTRACE_TARGET_FLAGS})
target_link_options(aliases PRIVATE -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/lib/aliases.map)
set_target_properties(aliases PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
                      LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/lib/aliases.map)
target_link_libraries(target-aliases PRIVATE aliases)

# C++ overloads, templates and an anonymous namespace, in the program and in
# a library of our own (MODULE:ns::f, signatures as c++filt prints them).
add_library(cxxlib SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lib/cxxlib.cpp)
target_compile_options(cxxlib PRIVATE ${UPTRACE_TARGET_FLAGS})
set_target_properties(cxxlib PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
uptrace_target(target-overloads SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/overloads.cpp)
target_link_libraries(target-overloads PRIVATE cxxlib)
# A C++ function with a .cold part (at -O2), entered on every tenth call.
uptrace_target(target-cold_cxx-O2 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/cold_cxx.cpp OPTIONS -O2)

# Indirect functions (STT_GNU_IFUNC): the program's own, and a library's
# whose implementations are local, stripped of .symtab after the build (as
# Debian's libc is), so that nothing names them.
add_library(ifunclib SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lib/ifunc_lib.c)
target_compile_options(ifunclib PRIVATE ${UPTRACE_TARGET_FLAGS})
set_target_properties(ifunclib PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_custom_command(TARGET ifunclib POST_BUILD COMMAND ${CMAKE_OBJCOPY} --strip-all $<TARGET_FILE:ifunclib> VERBATIM)
target_link_libraries(target-ifunc PRIVATE ifunclib)

# A Go program, when golang-go is installed (its tests say they are skipped
# otherwise): Go's runtime moves goroutine stacks and checks return
# addresses, and passes arguments in its own registers. Built without cgo, so
# it needs no C toolchain of Go's and runs where the other targets do.
find_program(UPTRACE_GO go)
if(UPTRACE_GO)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
    set(go_arch amd64)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set(go_arch arm64)
  endif()
  if(go_arch)
    set(go_env GOARCH=${go_arch} GOOS=linux CGO_ENABLED=0 GO111MODULE=off GOCACHE=${CMAKE_CURRENT_BINARY_DIR}/go-cache
               GOPATH=${CMAKE_CURRENT_BINARY_DIR}/go-path HOME=${CMAKE_CURRENT_BINARY_DIR})
    add_custom_command(OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/target-go
                       COMMAND ${CMAKE_COMMAND} -E env ${go_env} ${UPTRACE_GO} build -o ${CMAKE_CURRENT_BINARY_DIR}/target-go
                               ${CMAKE_CURRENT_SOURCE_DIR}/go/deep.go
                       DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/go/deep.go VERBATIM)
    add_custom_target(target-go ALL DEPENDS ${CMAKE_CURRENT_BINARY_DIR}/target-go)
  endif()
else()
  message(STATUS "golang-go is not installed: the Go tests (tests/integration/test_go.cpp) will be skipped")
endif()

# A library the program loads with dlopen only (libraries loaded later): the
# program finds it by name through its RUNPATH, as uptrace must.
add_library(dlcycle SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lib/dlcycle_lib.c)
target_compile_options(dlcycle PRIVATE ${UPTRACE_TARGET_FLAGS})
set_target_properties(dlcycle PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(target-dlcycle PRIVATE ${CMAKE_DL_LIBS})
target_link_options(target-dlcycle PRIVATE -Wl,--enable-new-dtags,-rpath,${CMAKE_CURRENT_BINARY_DIR})
add_dependencies(target-dlcycle dlcycle)

# A library loaded later that stays while libdlcycle.so comes and goes.
add_library(dlstay SHARED ${CMAKE_CURRENT_SOURCE_DIR}/lib/dlstay_lib.c)
target_compile_options(dlstay PRIVATE ${UPTRACE_TARGET_FLAGS})
set_target_properties(dlstay PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
target_link_libraries(target-dlwindow PRIVATE ${CMAKE_DL_LIBS})
target_link_options(target-dlwindow PRIVATE -Wl,--enable-new-dtags,-rpath,${CMAKE_CURRENT_BINARY_DIR})
add_dependencies(target-dlwindow dlstay dlcycle)
