# bc_module(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#
# Each module under src/<name> becomes the static library bc_<name>. Its headers are reachable
# as "<name>/header.h" only through an include directory that holds nothing but a link to its
# own folder, and that directory is published only to targets that link the module. So a module
# can include exactly the headers of the modules it links: the dependency rule of DESIGN.md is
# enforced by the build, not by review. Lower project modules whose types appear in a header
# are PUBLIC_DEPS; everything else, and every third-party library, is PRIVATE.
function(bc_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  set(inc "${CMAKE_BINARY_DIR}/include/${name}")
  file(MAKE_DIRECTORY "${inc}")
  if(NOT EXISTS "${inc}/${name}")
    file(CREATE_LINK "${CMAKE_SOURCE_DIR}/src/${name}" "${inc}/${name}" SYMBOLIC)
  endif()
  add_library(bc_${name} STATIC ${ARG_SOURCES})
  target_include_directories(bc_${name} PUBLIC "${inc}")
  target_link_libraries(bc_${name} PRIVATE bc_options)
  foreach(dep IN LISTS ARG_PUBLIC_DEPS)
    target_link_libraries(bc_${name} PUBLIC ${dep})
  endforeach()
  foreach(dep IN LISTS ARG_PRIVATE_DEPS)
    target_link_libraries(bc_${name} PRIVATE ${dep})
  endforeach()
endfunction()
