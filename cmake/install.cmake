# Install rules (included by the top-level CMakeLists.txt). `cmake --install build
# --prefix DIR` puts:
#   DIR/lib/liblamina.a, liblamina.so*        static archive and shared library
#   DIR/include/lamina/{tensor,autograd,nn}/  the public headers (#include
#                                             <lamina/nn/nn.h> with -I DIR/include)
#   DIR/lib/pkgconfig/lamina.pc               shared; lamina-static.pc: the archive
#   DIR/lib/cmake/lamina/                     find_package(lamina): lamina::lamina
#                                             (shared), lamina::lamina_static
#   DIR/share/doc/lamina/                     README, docs/, examples/
# Also registers the tests of the installed tree (label "install").
include(CMakePackageConfigHelpers)

set(LAMINA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/lamina)

# ---- headers: exactly the explicit list of cmake/public-headers.txt ----
# (LAMINA_PUBLIC_HEADERS, read by the top-level CMakeLists.txt). *_internal.h headers
# are plumbing and never installed; scripts/check-layers.sh keeps the list honest.
foreach(header ${LAMINA_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lamina/${dir} COMPONENT dev)
endforeach()

# ---- libraries and the CMake package ----
set(LAMINA_INSTALL_TARGETS lamina)
if(LAMINA_BUILD_SHARED)
  list(APPEND LAMINA_INSTALL_TARGETS lamina_shared)
endif()
install(TARGETS ${LAMINA_INSTALL_TARGETS} EXPORT laminaTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(EXPORT laminaTargets NAMESPACE lamina:: DESTINATION ${LAMINA_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/laminaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/laminaConfig.cmake INSTALL_DESTINATION ${LAMINA_CMAKE_DIR})
# 0.x releases promise nothing across minor versions.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/laminaConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/laminaConfig.cmake ${PROJECT_BINARY_DIR}/laminaConfigVersion.cmake
  DESTINATION ${LAMINA_CMAKE_DIR} COMPONENT dev)

# ---- pkg-config ----
# Written at install time, when the real prefix (cmake --install --prefix) is known,
# so the file holds plain absolute paths. When the library directory is not one the
# dynamic loader searches, lamina.pc also carries an rpath, so a program built with
# `cc $(pkg-config --cflags --libs lamina) prog.c` runs without LD_LIBRARY_PATH.
set(LAMINA_PC_BUILD_DIR ${PROJECT_BINARY_DIR}/pkgconfig)
string(REPLACE ";" " " LAMINA_OPENMP_LINK "${OpenMP_C_FLAGS}")
set(LAMINA_PC_BLAS "")
if(LAMINA_BLAS)
  set(LAMINA_PC_BLAS "${BLAS_LIBRARIES}")
  string(REPLACE ";" " " LAMINA_PC_BLAS "${LAMINA_PC_BLAS}")
endif()
# cmake/write-pc.cmake does the work; the values known now are handed to it in a file.
file(WRITE ${LAMINA_PC_BUILD_DIR}/pc-settings.cmake "# Generated: settings for cmake/write-pc.cmake
set(LAMINA_PC_SOURCE_DIR \"${PROJECT_SOURCE_DIR}/cmake\")
set(LAMINA_PC_OUTPUT_DIR \"${LAMINA_PC_BUILD_DIR}\")
set(LAMINA_PC_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
set(LAMINA_PC_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
set(LAMINA_PC_VERSION \"${PROJECT_VERSION}\")
set(LAMINA_PC_OPENMP \"${LAMINA_OPENMP_LINK}\")
set(LAMINA_PC_BLAS \"${LAMINA_PC_BLAS}\")
set(LAMINA_PC_SYSTEM_DIRS \"${CMAKE_C_IMPLICIT_LINK_DIRECTORIES}\")
")
install(CODE "include(\"${LAMINA_PC_BUILD_DIR}/pc-settings.cmake\")
include(\"${PROJECT_SOURCE_DIR}/cmake/write-pc.cmake\")" COMPONENT dev)
set(LAMINA_PC_FILES ${LAMINA_PC_BUILD_DIR}/lamina-static.pc)
if(LAMINA_BUILD_SHARED)
  list(APPEND LAMINA_PC_FILES ${LAMINA_PC_BUILD_DIR}/lamina.pc)
endif()
install(FILES ${LAMINA_PC_FILES} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# ---- documentation ----
file(GLOB LAMINA_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*)
file(GLOB LAMINA_EXAMPLE_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/examples/*.c)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT doc)
install(FILES ${LAMINA_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT doc)
install(FILES ${LAMINA_EXAMPLE_SOURCES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT doc)

# ---- tests of the installed tree ----
# tests/install/run.sh installs into a temporary prefix and builds the examples from
# outside the tree with pkg-config and with find_package, then checks the exports.
# Not under the sanitizers: an outside program would have to be built with them too.
if(LAMINA_BUILD_TESTS AND LAMINA_BUILD_SHARED AND NOT LAMINA_SANITIZE)
  add_test(NAME install COMMAND bash ${PROJECT_SOURCE_DIR}/tests/install/run.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(install PROPERTIES LABELS install TIMEOUT 600
                       ENVIRONMENT "OMP_WAIT_POLICY=passive")
endif()
