# The manual pages and shell completions, generated from the binary's own command definitions
# (src/cli/cmd_docs.cpp) into ${BC_DOCS_DIR} after each build of it; BcInstall.cmake installs them.
set(BC_DOCS_DIR "${CMAKE_BINARY_DIR}/generated-docs")
add_custom_command(
  OUTPUT "${BC_DOCS_DIR}/stamp"
  COMMAND "${CMAKE_COMMAND}" "-DBC_BIN=$<TARGET_FILE:backchannel>" "-DOUT=${BC_DOCS_DIR}"
          -P "${CMAKE_SOURCE_DIR}/cmake/BcGenerateDocs.cmake"
  DEPENDS backchannel "${CMAKE_SOURCE_DIR}/cmake/BcGenerateDocs.cmake"
  COMMENT "Generating manual pages and shell completions"
  VERBATIM)
add_custom_target(backchannel_docs ALL DEPENDS "${BC_DOCS_DIR}/stamp")
