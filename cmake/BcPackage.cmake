# The Debian package (CPack's DEB generator), built by scripts/package from the release preset:
# `cpack --config build/release/CPackConfig.cmake`. It holds the `runtime` install component
# (BcInstall.cmake); its dependencies are derived from the binary's linked shared libraries
# (dpkg-shlibdeps), plus adduser for the postinst.
set(BC_PACKAGE_MAINTAINER "backchannel maintainers <maintainers@users.noreply.r-seed-7806d55a.example>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME backchannel)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${BC_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps two distrustful parties in contact over several channels")
# Lines of at most 80 characters, as Debian's control format wants them (CPack keeps the breaks).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "backchannel keeps two parties who distrust each other, and every network"
  "between them, in contact. Each party runs a node; a link between two nodes"
  "is carried by several channels at once: direct TLS, relays run by neutral"
  "third parties, and courier files. Messages are end-to-end encrypted,"
  "forward-secret, delivered exactly once in order, confirmed by signed"
  "receipts and kept in a tamper-evident transcript; every channel is tested"
  "continuously and a blackout raises an alarm."
  "This package holds the backchannel program (node, relay and command line),"
  "its manual pages, bash and zsh completion, example settings, and systemd"
  "units for node and relay instances.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Only the `runtime` component, as one package (the client library and header are not in it).
set(CPACK_COMPONENTS_ALL runtime)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/packaging/debian/postinst"
    "${CMAKE_SOURCE_DIR}/packaging/debian/prerm"
    "${CMAKE_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY "${CMAKE_BINARY_DIR}/package")
include(CPack)
