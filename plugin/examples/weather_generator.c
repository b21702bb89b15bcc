/* A weather-generator host: streams a year of hourly 2 m temperature for a few locations,
 * one request per location (traces are decoded in one piece, so there are no seams), and
 * prints monthly means. Usage: weather_generator MODEL */
#include <stdio.h>
#include <stdlib.h>

#include "climvae.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  climvae_model* model = NULL;
  if (climvae_open(argv[1], CLIMVAE_ABI_VERSION, &model) != CLIMVAE_OK) {
    fprintf(stderr, "weather_generator: %s\n", climvae_last_error(NULL));
    return 1;
  }
  const double places[][2] = {{48.85, 2.35}, {52.52, 13.40}, {48.80, 2.13}}; /* Paris, Berlin, Versailles */
  const int year_hours = 8760;
  float* year = malloc(sizeof(float) * year_hours);
  long streamed = 0;
  climvae_request r;
  climvae_request_defaults(&r);
  climvae_parse_time("2023-01-01T00", &r.start_hour);
  r.hours = year_hours;
  r.units = CLIMVAE_UNITS_CELSIUS;
  r.seed = 2023;
  for (int p = 0; p < 3; ++p) {
    r.latitude = places[p][0]; /* cell = -1: the nearest trained cell */
    r.longitude = places[p][1];
    if (climvae_generate(model, &r, year, year_hours) != CLIMVAE_OK) {
      fprintf(stderr, "weather_generator: %s\n", climvae_last_error(model));
      return 1;
    }
    printf("location %.2fN %.2fE monthly mean degC:", places[p][0], places[p][1]);
    const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int m = 0, t = 0; m < 12; ++m) {
      double sum = 0;
      for (int h = 0; h < 24 * days[m]; ++h, ++t, ++streamed) sum += year[t]; /* a host would consume hour t here */
      printf(" %.1f", sum / (24 * days[m]));
    }
    printf("\n");
  }
  printf("streamed %ld hourly values for 3 locations\n", streamed);
  free(year);
  climvae_close(model);
  return 0;
}
