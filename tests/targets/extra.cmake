# Targets that need more than one C file each (included by CMakeLists.txt).

# The instruction classes at probe sites: the driver is built from
# insn_driver.c by the glob above; its functions are in assembly.
if(TARGET target-insn_driver)  # x86-64 only
  target_sources(target-insn_driver PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/insn_classes.S)
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
