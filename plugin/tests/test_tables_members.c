/* Warming tables through the C ABI and all ensemble members through BMI.
 * Usage: test_tables_members MODEL WORKDIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "climvae.h"
#include "climvae_bmi.h"

enum { HOURS = 48, MEMBERS = 3 };

static double max_diff(const float* a, const float* b, int n, double offset) {
  double worst = 0;
  for (int i = 0; i < n; ++i) worst = fmax(worst, fabs((double)b[i] - a[i] - offset));
  return worst;
}

/* Runs a BMI instance from an ini text; values[t * points + p] for 4 hours; returns points. */
static int bmi_values(const char* ini_path, const char* ini, float* values) {
  FILE* f = fopen(ini_path, "w");
  CHECK(f != NULL);
  if (!f) return 0;
  fputs(ini, f);
  fclose(f);
  Bmi model;
  register_bmi_climvae(&model);
  if (model.initialize(&model, ini_path) != BMI_SUCCESS) {
    fprintf(stderr, "FAIL bmi initialize: %s\n", climvae_bmi_last_error(&model));
    ++check_failures;
    return 0;
  }
  int points = 0;
  CHECK(model.get_grid_size(&model, 0, &points) == BMI_SUCCESS);
  /* get_value_ptr, taken once, follows the current hour as the run steps. */
  void* ptr = NULL;
  CHECK(model.get_value_ptr(&model, "air_temperature", &ptr) == BMI_SUCCESS && ptr != NULL);
  for (int t = 0; t < 4; ++t) {
    CHECK(model.get_value(&model, "air_temperature", values + t * points) == BMI_SUCCESS);
    CHECK(ptr == NULL || memcmp(ptr, values + t * points, sizeof(float) * (size_t)points) == 0);
    CHECK(model.update(&model) == BMI_SUCCESS);
  }
  /* update_until a time between two hourly steps is refused, not left short of it. */
  double now = 0;
  CHECK(model.update_until(&model, 4.5 * 3600) == BMI_FAILURE);
  CHECK(strstr(climvae_bmi_last_error(&model), "is not a whole number of 3600 s steps") != NULL);
  CHECK(model.get_current_time(&model, &now) == BMI_SUCCESS && now == 4 * 3600);
  CHECK(model.update_until(&model, 5 * 3600) == BMI_SUCCESS);
  CHECK(model.get_current_time(&model, &now) == BMI_SUCCESS && now == 5 * 3600);
  CHECK(model.finalize(&model) == BMI_SUCCESS);
  return points;
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* path = argv[1];
  const char* work = argv[2];
  climvae_model* h = NULL;
  if (climvae_open(path, CLIMVAE_ABI_VERSION, &h) != CLIMVAE_OK) {
    fprintf(stderr, "%s\n", climvae_last_error(NULL));
    return 1;
  }
  climvae_request r;
  climvae_request_defaults(&r);
  r.cell = 0;
  climvae_parse_time("2030-07-01", &r.start_hour);
  r.hours = HOURS;
  r.members = MEMBERS;
  r.seed = 4;
  static float base[HOURS * MEMBERS], warm[HOURS * MEMBERS];
  CHECK(climvae_generate(h, &r, base, HOURS * MEMBERS) == CLIMVAE_OK);

  /* A table through the C ABI: 2030 sits halfway between 2020 (+1 K) and 2040 (+2 K). */
  r.scenario = CLIMVAE_SCENARIO_TABLE;
  expect("table scenario without a table", climvae_generate(h, &r, warm, HOURS * MEMBERS), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "needs a warming table");
  const int32_t years[] = {2020, 2040};
  const double offsets[] = {1.0, 2.0};
  CHECK(climvae_set_warming_table(h, years, offsets, 2, 0) == CLIMVAE_OK);
  r.target_year = 2030;
  CHECK(climvae_generate(h, &r, warm, HOURS * MEMBERS) == CLIMVAE_OK);
  const double d = max_diff(base, warm, HOURS * MEMBERS, 1.5);
  printf("table at 2030: warm - base - 1.5 K: max %.2g K\n", d);
  CHECK(d < 1e-4);
  r.target_year = 2050;
  expect("year outside the table", climvae_generate(h, &r, warm, HOURS * MEMBERS), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "outside the warming table");
  const int32_t down[] = {2040, 2020};
  expect("years that do not increase", climvae_set_warming_table(h, down, offsets, 2, 0), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "years must increase");
  expect("NULL years", climvae_set_warming_table(h, NULL, offsets, 2, 0), CLIMVAE_ERR_NULL_POINTER, h, "years");
  expect("negative pattern rate", climvae_set_warming_table(h, years, offsets, 2, -1), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "pattern_rate_k_per_year");

  /* The same table from a CSV file, as `climvae generate --warming-table` reads it. */
  char csv[4096];
  snprintf(csv, sizeof csv, "%s/ssp.csv", work);
  FILE* f = fopen(csv, "w");
  CHECK(f != NULL);
  if (f) {
    fputs("year,offset_K\n2020,1.0\n2040,2.0\n", f);
    fclose(f);
  }
  CHECK(climvae_set_warming_table(h, NULL, NULL, 0, 0) == CLIMVAE_OK); /* removed */
  r.target_year = 2030;
  expect("removed table", climvae_generate(h, &r, warm, HOURS * MEMBERS), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "needs a warming table");
  CHECK(climvae_load_warming_table(h, csv, 0) == CLIMVAE_OK);
  CHECK(climvae_generate(h, &r, warm, HOURS * MEMBERS) == CLIMVAE_OK);
  CHECK(max_diff(base, warm, HOURS * MEMBERS, 1.5) < 1e-4);
  expect("missing CSV", climvae_load_warming_table(h, "/nonexistent/ssp.csv", 0), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "cannot open warming table");

  /* BMI: every member on one grid (point m * cells + c), and one instance per member. */
  char ini_path[4096], ini[8192];
  snprintf(ini_path, sizeof ini_path, "%s/members.ini", work);
  static float all[4 * 2 * MEMBERS], one[4 * 2];
  snprintf(ini, sizeof ini, "model = %s\nstart = 2030-07-01\nhours = %d\ncells = 0, 1\nseed = 4\nmembers = %d\n", path,
           HOURS, MEMBERS);
  const int points = bmi_values(ini_path, ini, all);
  CHECK(points == 2 * MEMBERS);
  double worst = 0;
  for (int t = 0; t < 4 && points == 2 * MEMBERS; ++t)
    for (int m = 0; m < MEMBERS; ++m) worst = fmax(worst, fabs(all[t * points + m * 2] - base[m * HOURS + t]));
  printf("bmi members = %d: %d points, cell 0 against climvae_generate: max %.2g K\n", MEMBERS, points, worst);
  CHECK(worst == 0);
  snprintf(ini, sizeof ini, "model = %s\nstart = 2030-07-01\nhours = %d\ncells = 0, 1\nseed = 4\nmember = 2\n", path, HOURS);
  CHECK(bmi_values(ini_path, ini, one) == 2);
  worst = 0;
  for (int t = 0; t < 4; ++t)
    for (int c = 0; c < 2; ++c) worst = fmax(worst, fabs(one[t * 2 + c] - all[t * points + 1 * 2 + c]));
  printf("bmi member = 2 against member 2 of the %d-member grid: max %.2g K\n", MEMBERS, worst);
  CHECK(worst == 0);
  snprintf(ini, sizeof ini, "model = %s\nstart = 2030-07-01\nhours = %d\ncells = 0\nmember = 0\n", path, HOURS);
  f = fopen(ini_path, "w");
  if (f) {
    fputs(ini, f);
    fclose(f);
  }
  Bmi model;
  register_bmi_climvae(&model);
  CHECK(model.initialize(&model, ini_path) == BMI_FAILURE);
  CHECK(strstr(climvae_bmi_last_error(&model), "'member' must be a realization number") != NULL);
  printf("ok   member = 0 refused: %s\n", climvae_bmi_last_error(&model));

  /* A member is the same bits decoded alone or among 50 (the kernels compute one sample per work
   * item, with explicit FMAs): member 0 over a year through the C ABI, and member 38 (a sample
   * of the second batch of a 50-member request) through a one-member BMI instance. */
  enum { YEAR = 8760, MANY = 50 };
  static float many[YEAR * MANY], alone[YEAR];
  climvae_request_defaults(&r);
  r.cell = 1;
  climvae_parse_time("2031-01-01", &r.start_hour);
  r.hours = YEAR;
  r.seed = 11;
  r.members = MANY;
  CHECK(climvae_generate(h, &r, many, YEAR * MANY) == CLIMVAE_OK);
  r.members = 1;
  CHECK(climvae_generate(h, &r, alone, YEAR) == CLIMVAE_OK);
  int differ = 0;
  for (int t = 0; t < YEAR; ++t) differ += memcmp(&alone[t], &many[t], sizeof(float)) != 0; /* member-major */
  printf("member 0 alone against member 0 of %d, one year: %d of %d hours differ\n", MANY, differ, YEAR);
  CHECK(differ == 0);
  snprintf(ini, sizeof ini, "model = %s\nstart = 2031-01-01\nhours = %d\ncells = 1\nseed = 11\nmember = 38\n", path, YEAR);
  CHECK(bmi_values(ini_path, ini, one) == 1);
  differ = 0;
  for (int t = 0; t < 4; ++t) differ += memcmp(&one[t], &many[37 * YEAR + t], sizeof(float)) != 0;
  printf("bmi member = 38 against member 38 of %d: %d of 4 hours differ\n", MANY, differ);
  CHECK(differ == 0);

  CHECK(climvae_close(h) == CLIMVAE_OK);
  printf("%d failed\n", check_failures);
  return check_failures ? 1 : 0;
}
