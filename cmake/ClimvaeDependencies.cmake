# Finds every third-party package climvae uses and gives each one target to link.

# --- Kokkos -----------------------------------------------------------------
# Debian's Trilinos Kokkos (3.4) exports Kokkos::kokkos with an include dir of
# <prefix>/include that does not exist (the headers live in include/trilinos)
# and with bare library names. Repair the target in place so that consumers
# can link Kokkos::kokkos as they would with a Kokkos 4.x install.
find_package(Kokkos REQUIRED)
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

# --- MPI, PnetCDF, netCDF-C ---------------------------------------------------
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PNETCDF REQUIRED IMPORTED_TARGET pnetcdf)
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
