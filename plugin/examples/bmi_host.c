/* A BMI host loop: drive climvae like any BMI 2.0 model for two days and print the hourly
 * air temperature of its cells. Usage: bmi_host CONFIG */
#include <stdio.h>

#include "climvae_bmi.h"

#define CHECK_BMI(call)                                                         \
  if ((call) != BMI_SUCCESS) {                                                  \
    fprintf(stderr, "bmi_host: %s failed: %s\n", #call, climvae_bmi_last_error(&model)); \
    return 1;                                                                   \
  }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  Bmi model;
  register_bmi_climvae(&model);
  CHECK_BMI(model.initialize(&model, argv[1]));
  char name[BMI_MAX_COMPONENT_NAME], units[BMI_MAX_UNITS_NAME], type[BMI_MAX_TYPE_NAME];
  int grid = -1, size = 0;
  double now = 0, end = 0, step = 0, lat[8], lon[8];
  CHECK_BMI(model.get_component_name(&model, name));
  CHECK_BMI(model.get_var_units(&model, "air_temperature", units));
  CHECK_BMI(model.get_var_grid(&model, "air_temperature", &grid));
  CHECK_BMI(model.get_grid_type(&model, grid, type));
  CHECK_BMI(model.get_grid_size(&model, grid, &size));
  CHECK_BMI(model.get_grid_y(&model, grid, lat));
  CHECK_BMI(model.get_grid_x(&model, grid, lon));
  CHECK_BMI(model.get_end_time(&model, &end));
  CHECK_BMI(model.get_time_step(&model, &step));
  printf("%s: air_temperature in %s on a '%s' grid of %d cells (%.2fN %.2fE ...), step %.0f s, end %.0f s\n", name,
         units, type, size, lat[0], lon[0], step, end);
  if (size > 8) return 1;
  float t[8];
  int steps = 0;
  while (now < end) {
    CHECK_BMI(model.get_value(&model, "air_temperature", t));
    if (steps % 6 == 0) printf("t = %6.0f s: %.1f %.1f\n", now, t[0], t[1]);
    CHECK_BMI(model.update(&model));
    CHECK_BMI(model.get_current_time(&model, &now));
    ++steps;
  }
  if (model.get_value(&model, "precipitation", t) == BMI_SUCCESS) return 1; /* unknown variable refused */
  printf("refused as expected: %s\n", climvae_bmi_last_error(&model));
  CHECK_BMI(model.finalize(&model));
  printf("bmi host loop done: %d updates\n", steps);
  return 0;
}
