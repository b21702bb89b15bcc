! An impact model: growing degree days (base 10 degC, April-September, daily means) for 50
! members of a 2040 Paris climate under the learned trend, and their spread.
! Usage: impact_gdd MODEL
program impact_gdd
  use, intrinsic :: iso_c_binding, only: c_float, c_int64_t
  use climvae
  implicit none
  integer, parameter :: members = 50, days = 183
  type(climvae_model) :: model
  type(climvae_request) :: request
  real(c_float), allocatable :: tas(:, :)
  real :: gdd(members), daily
  character(len=512) :: path
  integer :: m, d

  call get_command_argument(1, path)
  if (climvae_open(model, path) /= CLIMVAE_OK) then
    print '(a)', 'impact_gdd: ' // climvae_last_error(model)
    stop 1
  end if
  ! 50 members of half a year need far less than the default 4096 MiB: a tighter cap.
  if (climvae_set_memory_limit(model, 1024_c_int64_t) /= CLIMVAE_OK) then
    print '(a)', 'impact_gdd: ' // climvae_last_error(model)
    stop 1
  end if
  call climvae_request_defaults(request)
  request%cell = 0
  if (climvae_parse_time('2040-04-01T00', request%start_hour) /= CLIMVAE_OK) stop 1
  request%hours = 24 * days
  request%members = members
  request%seed = 42
  request%units = CLIMVAE_UNITS_CELSIUS
  request%time_base = CLIMVAE_TIME_LOCAL
  request%scenario = CLIMVAE_SCENARIO_TREND
  request%target_year = 2040
  allocate(tas(request%hours, members))
  if (climvae_generate(model, request, tas) /= CLIMVAE_OK) then
    print '(a)', 'impact_gdd: ' // climvae_last_error(model)
    stop 1
  end if
  do m = 1, members
    gdd(m) = 0
    do d = 1, days
      daily = sum(tas(24 * (d - 1) + 1:24 * d, m)) / 24
      gdd(m) = gdd(m) + max(daily - 10.0, 0.0)
    end do
  end do
  print '(a, i0, a)', 'growing degree days (base 10 degC, Apr-Sep 2040), ', members, ' members:'
  print '(a, f8.1, a, f6.1, a, f8.1, a, f8.1)', '  mean ', sum(gdd) / members, '  sd ', &
      sqrt(sum((gdd - sum(gdd) / members)**2) / (members - 1)), '  min ', minval(gdd), '  max ', maxval(gdd)
  if (climvae_close(model) /= CLIMVAE_OK) stop 1
end program
