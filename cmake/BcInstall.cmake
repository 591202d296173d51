# Install rules of the backchannel binary and what an operator installs with it (the client
# library's own rules are in src/client/). Components: `runtime` is what the Debian package
# holds (BcPackage.cmake); `development` (the client library and its header) is not in it.
include(GNUInstallDirs)
# `install` and cpack build nothing themselves (else they would build every benchmark of the
# release preset): scripts/package builds the targets the package holds first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
# Debian 12 keeps system units in /lib/systemd/system (lintian refuses /usr/lib there).
set(BC_SYSTEMD_UNIT_DIR "/lib/systemd/system" CACHE PATH "Where the systemd units are installed")

install(TARGETS backchannel RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT runtime)
install(DIRECTORY "${BC_DOCS_DIR}/man/" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT runtime
        FILES_MATCHING PATTERN "*.1.gz")
install(FILES "${BC_DOCS_DIR}/completion/backchannel"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions" COMPONENT runtime)
install(FILES "${BC_DOCS_DIR}/completion/_backchannel"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions" COMPONENT runtime)
install(FILES "${CMAKE_SOURCE_DIR}/packaging/examples/backchannel.toml"
              "${CMAKE_SOURCE_DIR}/packaging/examples/relay.toml"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples" COMPONENT runtime)
install(FILES "${CMAKE_SOURCE_DIR}/packaging/systemd/backchannel-node@.service"
              "${CMAKE_SOURCE_DIR}/packaging/systemd/backchannel-relay@.service"
        DESTINATION "${BC_SYSTEMD_UNIT_DIR}" COMPONENT runtime)
install(FILES "${CMAKE_SOURCE_DIR}/packaging/debian/copyright" DESTINATION "${CMAKE_INSTALL_DOCDIR}"
        COMPONENT runtime)
# Debian wants the changelog compressed with gzip -9n: made at build time, next to the pages.
find_program(BC_GZIP gzip REQUIRED)
add_custom_command(
  OUTPUT "${BC_DOCS_DIR}/changelog.gz"
  COMMAND "${BC_GZIP}" -9nc "${CMAKE_SOURCE_DIR}/packaging/debian/changelog" > "${BC_DOCS_DIR}/changelog.gz"
  DEPENDS "${CMAKE_SOURCE_DIR}/packaging/debian/changelog")
add_custom_target(backchannel_changelog ALL DEPENDS "${BC_DOCS_DIR}/changelog.gz")
install(FILES "${BC_DOCS_DIR}/changelog.gz" DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT runtime)
