! Fortran bindings of climvae.h (iso_c_binding): the same calls, Fortran strings and arrays.
! Traces come back as out(hours, members), one member per column.
module climvae
  use, intrinsic :: iso_c_binding
  implicit none
  private

  integer(c_int), parameter, public :: CLIMVAE_ABI_VERSION = 1
  integer(c_int), parameter, public :: CLIMVAE_OK = 0
  integer(c_int), parameter, public :: CLIMVAE_UNITS_KELVIN = 0, CLIMVAE_UNITS_CELSIUS = 1, &
                                       CLIMVAE_UNITS_FAHRENHEIT = 2
  integer(c_int), parameter, public :: CLIMVAE_TIME_UTC = 0, CLIMVAE_TIME_LOCAL = 1
  integer(c_int), parameter, public :: CLIMVAE_SCENARIO_NONE = 0, CLIMVAE_SCENARIO_TREND = 1, &
                                       CLIMVAE_SCENARIO_RATE = 2, CLIMVAE_SCENARIO_TABLE = 3

  ! Mirrors struct climvae_request field by field.
  type, bind(c), public :: climvae_request
    integer(c_int64_t) :: start_hour, hours, seed
    real(c_double) :: latitude, longitude, max_distance_km, warming_rate_k_per_year, warming_offset_k
    integer(c_int32_t) :: cell, members, units, time_base, scenario, target_year, transient, &
                          add_noise, condition_iterations, reserved
  end type

  type, bind(c), public :: climvae_model_info
    integer(c_int32_t) :: cells, reference_year, seconds_per_value, hours_per_latent_step, &
                          latent_features, format_version
  end type

  ! An open model; its handle is NULL when closed.
  type, public :: climvae_model
    type(c_ptr) :: handle = c_null_ptr
  end type

  public :: climvae_open, climvae_open_shared, climvae_close, climvae_request_defaults, &
            climvae_generate, climvae_condition, climvae_parse_time, climvae_model_info_get, &
            climvae_last_error, climvae_set_warming_table, climvae_set_memory_limit

  interface
    function c_open(path, abi, model) bind(c, name="climvae_open") result(status)
      import :: c_char, c_int, c_ptr
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value :: abi
      type(c_ptr), intent(out) :: model
      integer(c_int) :: status
    end function
    function c_open_shared(path, abi, comm, model) bind(c, name="climvae_open_shared") result(status)
      import :: c_char, c_int, c_int32_t, c_ptr
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value :: abi
      integer(c_int32_t), value :: comm
      type(c_ptr), intent(out) :: model
      integer(c_int) :: status
    end function
    function c_close(model) bind(c, name="climvae_close") result(status)
      import :: c_int, c_ptr
      type(c_ptr), value :: model
      integer(c_int) :: status
    end function
    subroutine c_request_defaults(request) bind(c, name="climvae_request_defaults")
      import :: climvae_request
      type(climvae_request), intent(out) :: request
    end subroutine
    function c_generate(model, request, out, capacity) bind(c, name="climvae_generate") result(status)
      import :: c_int, c_int64_t, c_ptr, c_float, climvae_request
      type(c_ptr), value :: model
      type(climvae_request), intent(in) :: request
      real(c_float), intent(out) :: out(*)
      integer(c_int64_t), value :: capacity
      integer(c_int) :: status
    end function
    function c_condition(model, request, known, known_hours, out, capacity) &
        bind(c, name="climvae_condition") result(status)
      import :: c_int, c_int64_t, c_ptr, c_float, climvae_request
      type(c_ptr), value :: model
      type(climvae_request), intent(in) :: request
      real(c_float), intent(in) :: known(*)
      integer(c_int64_t), value :: known_hours
      real(c_float), intent(out) :: out(*)
      integer(c_int64_t), value :: capacity
      integer(c_int) :: status
    end function
    function c_set_warming_table(model, years, offsets, count, pattern_rate) &
        bind(c, name="climvae_set_warming_table") result(status)
      import :: c_ptr, c_int, c_int32_t, c_double, c_int64_t
      type(c_ptr), value :: model
      integer(c_int32_t), intent(in) :: years(*)
      real(c_double), intent(in) :: offsets(*)
      integer(c_int64_t), value :: count
      real(c_double), value :: pattern_rate
      integer(c_int) :: status
    end function
    function c_set_memory_limit(model, mib) bind(c, name="climvae_set_memory_limit") result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model
      integer(c_int64_t), value :: mib
      integer(c_int) :: status
    end function
    function c_parse_time(iso, hour) bind(c, name="climvae_parse_time") result(status)
      import :: c_char, c_int, c_int64_t
      character(kind=c_char), intent(in) :: iso(*)
      integer(c_int64_t), intent(out) :: hour
      integer(c_int) :: status
    end function
    function c_model_info(model, info) bind(c, name="climvae_model_info_get") result(status)
      import :: c_int, c_ptr, climvae_model_info
      type(c_ptr), value :: model
      type(climvae_model_info), intent(out) :: info
      integer(c_int) :: status
    end function
    function c_last_error(model) bind(c, name="climvae_last_error") result(message)
      import :: c_ptr
      type(c_ptr), value :: model
      type(c_ptr) :: message
    end function
    function c_strlen(s) bind(c, name="strlen") result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: n
    end function
  end interface

contains

  integer function climvae_open(model, path) result(status)
    type(climvae_model), intent(out) :: model
    character(*), intent(in) :: path
    status = c_open(trim(path) // c_null_char, CLIMVAE_ABI_VERSION, model%handle)
  end function

  ! Collective over an MPI communicator given as MPI_Fint (mpi module: integer comm).
  integer function climvae_open_shared(model, path, comm) result(status)
    type(climvae_model), intent(out) :: model
    character(*), intent(in) :: path
    integer, intent(in) :: comm
    status = c_open_shared(trim(path) // c_null_char, CLIMVAE_ABI_VERSION, int(comm, c_int32_t), model%handle)
  end function

  integer function climvae_close(model) result(status)
    type(climvae_model), intent(inout) :: model
    status = c_close(model%handle)
    model%handle = c_null_ptr
  end function

  subroutine climvae_request_defaults(request)
    type(climvae_request), intent(out) :: request
    call c_request_defaults(request)
  end subroutine

  ! The warming table of CLIMVAE_SCENARIO_TABLE requests: offsets_k (K) at years (increasing);
  ! pattern_rate > 0 scales them per cell by its trend / pattern_rate (K/year).
  integer function climvae_set_warming_table(model, years, offsets_k, pattern_rate) result(status)
    type(climvae_model), intent(in) :: model
    integer(c_int32_t), intent(in) :: years(:)
    real(c_double), intent(in) :: offsets_k(:)
    real(c_double), intent(in) :: pattern_rate
    if (size(years) /= size(offsets_k)) then
      status = 10  ! CLIMVAE_ERR_BAD_ARGUMENT: the library never saw the call
      return
    end if
    status = c_set_warming_table(model%handle, years, offsets_k, int(size(years), c_int64_t), pattern_rate)
  end function

  ! The most working memory one request on this model may take, MiB (1 .. 1073741824).
  integer function climvae_set_memory_limit(model, mib) result(status)
    type(climvae_model), intent(in) :: model
    integer(c_int64_t), intent(in) :: mib
    status = c_set_memory_limit(model%handle, mib)
  end function

  ! out(hours, members); its size is checked by the library.
  integer function climvae_generate(model, request, out) result(status)
    type(climvae_model), intent(in) :: model
    type(climvae_request), intent(in) :: request
    real(c_float), intent(out), contiguous :: out(:, :)
    status = c_generate(model%handle, request, out, int(size(out), c_int64_t))
  end function

  ! known(:) holds the first size(known) hours of the request (NaN where unknown).
  integer function climvae_condition(model, request, known, out) result(status)
    type(climvae_model), intent(in) :: model
    type(climvae_request), intent(in) :: request
    real(c_float), intent(in), contiguous :: known(:)
    real(c_float), intent(out), contiguous :: out(:, :)
    status = c_condition(model%handle, request, known, int(size(known), c_int64_t), out, int(size(out), c_int64_t))
  end function

  integer function climvae_parse_time(iso, hour) result(status)
    character(*), intent(in) :: iso
    integer(c_int64_t), intent(out) :: hour
    status = c_parse_time(trim(iso) // c_null_char, hour)
  end function

  integer function climvae_model_info_get(model, info) result(status)
    type(climvae_model), intent(in) :: model
    type(climvae_model_info), intent(out) :: info
    status = c_model_info(model%handle, info)
  end function

  ! The calling thread's last error on this model (or of a failed open, with an unopened model).
  function climvae_last_error(model) result(message)
    type(climvae_model), intent(in) :: model
    character(:), allocatable :: message
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    p = c_last_error(model%handle)
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(n) :: message)
    do i = 1, n
      message(i:i) = chars(i)
    end do
  end function

end module climvae
