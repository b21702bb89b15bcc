# Finds every third-party package climvae uses and gives each one target to link.

# --- Kokkos -----------------------------------------------------------------
# Debian's Trilinos Kokkos (3.4) exports Kokkos::kokkos with an include dir of
# <prefix>/include that does not exist (the headers live in include/trilinos)
# and with bare library names. Repair the target in place so that consumers
# can link Kokkos::kokkos as they would with a Kokkos 4.x install.
find_package(Kokkos QUIET)
if(NOT Kokkos_FOUND)
  message(FATAL_ERROR "climvae: Kokkos (3.4 or newer) not found. Install it (Debian: apt-get install "
    "libtrilinos-kokkos-dev; Spack: spack install kokkos) or pass -DKokkos_ROOT=<its install prefix>.")
endif()
if(Kokkos_VERSION VERSION_LESS 3.4)
  message(FATAL_ERROR "climvae: Kokkos ${Kokkos_VERSION} found in ${Kokkos_DIR}, but climvae needs 3.4 or "
    "newer. Install a newer one and pass -DKokkos_ROOT=<its install prefix>.")
endif()
if(TARGET Kokkos::kokkos AND Kokkos_INCLUDE_DIRS AND Kokkos_LIBRARY_DIRS)
  get_target_property(_climvae_kokkos_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  set(_climvae_fixed_inc "")
  foreach(_dir IN LISTS _climvae_kokkos_inc Kokkos_INCLUDE_DIRS)
    get_filename_component(_dir "${_dir}" REALPATH)
    if(EXISTS "${_dir}/Kokkos_Core.hpp")
      list(APPEND _climvae_fixed_inc "${_dir}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _climvae_fixed_inc)
  if(NOT _climvae_fixed_inc)
    message(FATAL_ERROR "climvae: Kokkos found but Kokkos_Core.hpp is in none of: ${_climvae_kokkos_inc};${Kokkos_INCLUDE_DIRS}")
  endif()
  set(_climvae_kokkos_libs "")
  foreach(_lib IN LISTS Kokkos_LIBRARIES)
    find_library(_climvae_lib_${_lib} NAMES ${_lib} HINTS ${Kokkos_LIBRARY_DIRS} NO_DEFAULT_PATH)
    list(APPEND _climvae_kokkos_libs "${_climvae_lib_${_lib}}")
  endforeach()
  set_target_properties(Kokkos::kokkos PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_climvae_fixed_inc}"
    INTERFACE_LINK_LIBRARIES "${_climvae_kokkos_libs};${CMAKE_DL_LIBS}")
  message(STATUS "climvae: repaired Debian/Trilinos Kokkos target (headers in ${_climvae_fixed_inc})")
endif()
message(STATUS "climvae: Kokkos ${Kokkos_VERSION}, devices: ${Kokkos_DEVICES}")
# libclimvae.so links Kokkos in: a static Kokkos must have been compiled with -fPIC, or the link
# fails at the very end (relocation R_X86_64_TPOFF32 ... when making a shared object). Check now.
if(TARGET Kokkos::kokkoscore)
  get_target_property(_climvae_kokkos_type Kokkos::kokkoscore TYPE)
  if(_climvae_kokkos_type STREQUAL "STATIC_LIBRARY" AND NOT DEFINED CACHE{CLIMVAE_KOKKOS_SHARED_OK})
    message(STATUS "climvae: static Kokkos: checking that it links into a shared library")
    try_compile(_climvae_kokkos_pic ${CMAKE_BINARY_DIR}/CMakeFiles/climvae_kokkos_shared_check
      ${CMAKE_CURRENT_LIST_DIR}/kokkos_shared_check climvae_kokkos_shared_check
      CMAKE_FLAGS "-DKokkos_DIR=${Kokkos_DIR}" "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
      OUTPUT_VARIABLE _climvae_kokkos_pic_log)
    if(NOT _climvae_kokkos_pic)
      message(FATAL_ERROR "climvae: the Kokkos in ${Kokkos_DIR} is a static library built without "
        "position-independent code, so it cannot be linked into libclimvae.so. Rebuild Kokkos with "
        "-DCMAKE_POSITION_INDEPENDENT_CODE=ON (or -DBUILD_SHARED_LIBS=ON; Spack: kokkos+pic or +shared) "
        "and pass -DKokkos_ROOT=<its install prefix>. Link log:\n${_climvae_kokkos_pic_log}")
    endif()
    set(CLIMVAE_KOKKOS_SHARED_OK ON CACHE INTERNAL "The static Kokkos links into a shared library")
  endif()
endif()

# --- MPI, PnetCDF, netCDF-C ---------------------------------------------------
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PNETCDF QUIET IMPORTED_TARGET pnetcdf)
if(NOT PNETCDF_FOUND)
  message(FATAL_ERROR "climvae: PnetCDF not found (pkg-config module pnetcdf). Install it (Debian: "
    "apt-get install libpnetcdf-dev; Spack: spack install parallel-netcdf) or add <its prefix>/lib/pkgconfig "
    "to PKG_CONFIG_PATH (or pass -DCMAKE_PREFIX_PATH=<its prefix>).")
endif()
# netCDF-C reads netCDF-4/HDF5 input (PnetCDF reads classic/CDF-5 only).
find_package(netCDF QUIET)
if(netCDF_FOUND)
  set(CLIMVAE_HAVE_NETCDF4 ON)
else()
  set(CLIMVAE_HAVE_NETCDF4 OFF)
  message(STATUS "climvae: netCDF-C not found: netCDF-4/HDF5 input will be refused with a clear error")
endif()

# --- Boost, LibTorch, GoogleTest ---------------------------------------------
find_package(Boost REQUIRED COMPONENTS program_options)
if(CLIMVAE_WITH_TORCH)
  find_package(Torch REQUIRED)
endif()
if(CLIMVAE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
