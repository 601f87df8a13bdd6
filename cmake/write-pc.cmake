# Writes lamina.pc and lamina-static.pc at install time (included from the install
# script, where CMAKE_INSTALL_PREFIX is the prefix given to cmake --install), with
# the settings cmake/install.cmake recorded at configure time (pc-settings.cmake).
set(LAMINA_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
foreach(kind LIBDIR INCLUDEDIR)
  set(dir "${LAMINA_PC_${kind}}")
  if(IS_ABSOLUTE "${dir}")
    set(LAMINA_PC_${kind}_VAR "${dir}")
    set(full_${kind} "${dir}")
  else()
    set(LAMINA_PC_${kind}_VAR "\${prefix}/${dir}")
    set(full_${kind} "${CMAKE_INSTALL_PREFIX}/${dir}")
  endif()
endforeach()

# An rpath only where the dynamic loader would not look by itself.
set(LAMINA_PC_RPATH "-Wl,-rpath,\${libdir} ")
get_filename_component(full_LIBDIR "${full_LIBDIR}" REALPATH)
foreach(system_dir IN LISTS LAMINA_PC_SYSTEM_DIRS)
  get_filename_component(system_dir "${system_dir}" REALPATH)
  if(full_LIBDIR STREQUAL system_dir)
    set(LAMINA_PC_RPATH "")
  endif()
endforeach()

configure_file("${LAMINA_PC_SOURCE_DIR}/lamina.pc.in" "${LAMINA_PC_OUTPUT_DIR}/lamina.pc" @ONLY)
configure_file("${LAMINA_PC_SOURCE_DIR}/lamina-static.pc.in" "${LAMINA_PC_OUTPUT_DIR}/lamina-static.pc" @ONLY)
