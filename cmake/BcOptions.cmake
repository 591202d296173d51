# Compiler flags shared by every target of the project (not by third-party code).
add_library(bc_options INTERFACE)
target_compile_options(bc_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
# GCC 12 reports false -Wrestrict, -Wstringop-overflow/overread, -Warray-bounds and
# -Wmaybe-uninitialized positives inside libstdc++'s std::string, std::vector::insert and
# std::variant moves when optimising (GCC bugs 105329, 107138, 107852, 80635); these warnings
# are off for GCC 12 only. The dev preset's ASan/UBSan build and clang (the fuzz preset) still
# catch the real errors they stand for.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(bc_options INTERFACE -Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread -Wno-array-bounds
    -Wno-maybe-uninitialized)
endif()
if(BC_WERROR)
  target_compile_options(bc_options INTERFACE -Werror)
endif()

if(BC_SANITIZE)
  string(REPLACE ";" "," _bc_san "${BC_SANITIZE}")
  add_compile_options(-fsanitize=${_bc_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_bc_san})
  # Position-dependent executables: a PIE built with the sanitizers carries millions of relative
  # relocations (UBSan's check data, ASan's globals), and applying them made every start of the
  # dev binary take 0.9 s, which the CLI and integration tests pay thousands of times.
  if(NOT BC_FUZZ)
    add_link_options(-no-pie)
  endif()
endif()

if(BC_FUZZ)
  # Libraries get coverage instrumentation; only fuzz executables link the libFuzzer main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
