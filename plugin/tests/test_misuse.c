/* Misuse of the C ABI: each case returns its own status and a message that says what is wrong;
 * none crashes (run under AddressSanitizer/UBSan in CI). Usage: test_misuse MODEL WORKDIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "climvae.h"

/* Copies the first `bytes` of src to dst, flipping the byte at `flip` (if >= 0). */
static void damaged_copy(const char* src, const char* dst, long bytes, long flip) {
  FILE* in = fopen(src, "rb");
  FILE* out = fopen(dst, "wb");
  CHECK(in != NULL && out != NULL);
  if (!in || !out) exit(1);
  int c;
  for (long i = 0; (c = fgetc(in)) != EOF && (bytes < 0 || i < bytes); ++i) fputc(i == flip ? c ^ 0x5A : c, out);
  fclose(in);
  fclose(out);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* path = argv[1];
  char bad[4096];
  climvae_model* h = NULL;
  float buffer[2 * 48];
  climvae_request r;
  climvae_request_defaults(&r);
  r.cell = 0;
  r.hours = 48;
  r.members = 2;

  /* Opening. */
  climvae_model* none = (climvae_model*)0x1;
  expect("wrong ABI version", climvae_open(path, CLIMVAE_ABI_VERSION + 1, &none), CLIMVAE_ERR_ABI_VERSION, NULL,
         "ABI version 2");
  CHECK(none == NULL);
  expect("null path", climvae_open(NULL, CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_NULL_POINTER, NULL, "'path'");
  expect("null handle out", climvae_open(path, CLIMVAE_ABI_VERSION, NULL), CLIMVAE_ERR_NULL_POINTER, NULL, "'model'");
  expect("missing file", climvae_open("/nonexistent/x.model", CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_MODEL_FILE, NULL,
         "cannot open model file '/nonexistent/x.model'");
  snprintf(bad, sizeof bad, "%s/truncated.model", argv[2]);
  damaged_copy(path, bad, 3000, -1);
  expect("truncated model", climvae_open(bad, CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_MODEL_FILE, NULL, "truncated");
  snprintf(bad, sizeof bad, "%s/corrupt.model", argv[2]);
  damaged_copy(path, bad, -1, 20000); /* a byte among the parameters */
  expect("corrupt model", climvae_open(bad, CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_MODEL_FILE, NULL, "checksum");
  snprintf(bad, sizeof bad, "%s/not_a_model.txt", argv[2]);
  FILE* f = fopen(bad, "w");
  fputs("time,value\n2022-01-01T00:00,1.0\n", f);
  fclose(f);
  expect("not a model", climvae_open(bad, CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_MODEL_FILE, NULL,
         "is not a climvae model");
  /* Files that are no regular file: refused by kind; a FIFO does not block the open for ever. */
  expect("directory as model", climvae_open(argv[2], CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_MODEL_FILE, NULL,
         "is a directory, not a regular file");
  snprintf(bad, sizeof bad, "%s/fifo.model", argv[2]);
  remove(bad);
  CHECK(mkfifo(bad, 0600) == 0);
  expect("FIFO as model", climvae_open(bad, CLIMVAE_ABI_VERSION, &h), CLIMVAE_ERR_MODEL_FILE, NULL,
         "is a FIFO, not a regular file");
  remove(bad);
  CHECK(h == NULL);

  /* A NULL handle everywhere. */
  expect("null handle generate", climvae_generate(NULL, &r, buffer, 96), CLIMVAE_ERR_NULL_HANDLE, NULL, "NULL");
  expect("null handle condition", climvae_condition(NULL, &r, buffer, 48, buffer, 96), CLIMVAE_ERR_NULL_HANDLE, NULL,
         "NULL");
  climvae_model_info info;
  expect("null handle info", climvae_model_info_get(NULL, &info), CLIMVAE_ERR_NULL_HANDLE, NULL, "NULL");
  expect("null handle close", climvae_close(NULL), CLIMVAE_ERR_NULL_HANDLE, NULL, "NULL");

  expect("open", climvae_open(path, CLIMVAE_ABI_VERSION, &h), CLIMVAE_OK, NULL, "");
  if (h == NULL) return 1;

  /* Buffers and lengths. */
  expect("null buffer", climvae_generate(h, &r, NULL, 96), CLIMVAE_ERR_NULL_POINTER, h, "'out'");
  expect("null request", climvae_generate(h, NULL, buffer, 96), CLIMVAE_ERR_NULL_POINTER, h, "'request'");
  expect("short buffer", climvae_generate(h, &r, buffer, 95), CLIMVAE_ERR_BUFFER_TOO_SMALL, h,
         "holds 95 values; 48 hours x 2 members need 96");
  expect("negative capacity", climvae_generate(h, &r, buffer, -1), CLIMVAE_ERR_BAD_LENGTH, h, "negative");
  r.hours = 0;
  expect("zero hours", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_LENGTH, h, "hours must be at least 1, got 0");
  r.hours = -5;
  expect("negative hours", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_LENGTH, h, "got -5");
  r.hours = 48;
  r.members = 0;
  expect("zero members", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_LENGTH, h, "members must be at least 1");
  r.members = 2;
  expect("known_hours zero", climvae_condition(h, &r, buffer, 0, buffer, 96), CLIMVAE_ERR_BAD_LENGTH, h, "known_hours");
  expect("known_hours > hours", climvae_condition(h, &r, buffer, 49, buffer, 96), CLIMVAE_ERR_BAD_LENGTH, h,
         "known_hours");

  /* Absurd sizes: refused before anything is allocated (the buffer passed is tiny). */
  r.members = 2000000000;
  expect("absurd members", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_TOO_LARGE, h,
         "members = 2000000000 is more than the limit");
  r.members = 50000;
  r.hours = 24 * 365 * 10;
  expect("absurd values", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_TOO_LARGE, h, "values is more than");
  r.members = 1;
  r.hours = 24LL * 366 * 100000;
  expect("absurd hours", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_TOO_LARGE, h, "1000 years");
  /* Within those limits (2^31 values) yet about 9 GB of working memory: more than the handle's
   * default limit, refused before anything is allocated; the limit can be lowered and raised. */
  r.members = 100000;
  r.hours = 21474;
  expect("memory over default limit", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_TOO_LARGE, h,
         "more than the handle's memory limit of 4096 MiB");
  expect("condition over default limit", climvae_condition(h, &r, buffer, 1, buffer, 96), CLIMVAE_ERR_TOO_LARGE, h,
         "raise the limit with climvae_set_memory_limit");
  expect("memory limit 0", climvae_set_memory_limit(h, 0), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "the memory limit must be 1..1073741824 MiB, got 0");
  expect("memory limit 2^40", climvae_set_memory_limit(h, 1LL << 40), CLIMVAE_ERR_BAD_ARGUMENT, h, "got 1099511627776");
  expect("memory limit null handle", climvae_set_memory_limit(NULL, 1), CLIMVAE_ERR_NULL_HANDLE, NULL, "NULL");
  expect("memory limit 1 MiB", climvae_set_memory_limit(h, 1), CLIMVAE_OK, h, "");
  r.members = 100;
  r.hours = 8760;
  float* year = malloc(sizeof(float) * 8760 * 100);
  CHECK(year != NULL);
  expect("memory over 1 MiB", climvae_generate(h, &r, year, 8760 * 100), CLIMVAE_ERR_TOO_LARGE, h,
         "8760 hours x 100 members need about");
  expect("memory limit default", climvae_set_memory_limit(h, CLIMVAE_DEFAULT_MEMORY_MIB), CLIMVAE_OK, h, "");
  expect("memory within default", climvae_generate(h, &r, year, 8760 * 100), CLIMVAE_OK, h, "");
  free(year);
  r.hours = 48;
  r.members = 2;

  /* Cells and locations. */
  r.cell = 7;
  expect("unknown cell", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_UNKNOWN_CELL, h,
         "cell 7 is not in the model (it has 2 cells");
  r.cell = -3;
  expect("negative cell", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_UNKNOWN_CELL, h, "cell -3");
  r.cell = -1;
  r.latitude = -33.9; /* Cape Town */
  r.longitude = 18.4;
  expect("far location", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_NO_NEARBY_CELL, h,
         "no trained cell within 50");
  r.latitude = 95;
  expect("impossible latitude", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h, "not a latitude");
  r.latitude = 48.85; /* central Paris: the Paris cell, a few km away */
  r.longitude = 2.35;
  expect("near location", climvae_generate(h, &r, buffer, 96), CLIMVAE_OK, h, "");
  climvae_cell cell;
  expect("cell_get unknown", climvae_cell_get(h, 2, &cell), CLIMVAE_ERR_UNKNOWN_CELL, h, "cell 2");

  /* Other values. */
  r.units = 9;
  expect("bad units", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h, "units 9");
  r.units = CLIMVAE_UNITS_CELSIUS;
  r.scenario = 5;
  expect("bad scenario", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h, "scenario 5");
  r.scenario = CLIMVAE_SCENARIO_NONE;
  r.reserved = 1;
  expect("reserved nonzero", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h, "reserved");
  r.reserved = 0;
  for (int i = 0; i < 10; ++i) buffer[i] = NAN;
  buffer[3] = INFINITY;
  expect("infinite known", climvae_condition(h, &r, buffer, 10, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "known[3] is infinite");
  /* Known hours in the wrong units are named as such, not blamed on the generated output. */
  buffer[3] = NAN;
  buffer[2] = 300; /* 300 degC: kelvin given as Celsius */
  expect("implausible known", climvae_condition(h, &r, buffer, 10, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "known[2] = 300 is 573.15 K, outside 150..350 K");
  int64_t hour = 0;
  expect("bad date", climvae_parse_time("2022-02-30", &hour), CLIMVAE_ERR_BAD_ARGUMENT, NULL, "2022-02-30");
  char value[8];
  expect("unknown metadata", climvae_metadata_get(h, "colour", value, sizeof value, NULL), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "no metadata 'colour'");
  expect("short metadata buffer", climvae_metadata_get(h, "store", value, sizeof value, NULL),
         CLIMVAE_ERR_BUFFER_TOO_SMALL, h, "needs 16 bytes");
  expect("verbosity", climvae_set_verbosity(h, 7), CLIMVAE_ERR_BAD_ARGUMENT, h, "verbosity");

  /* A success clears the thread's message; the handle still works after all of the above. */
  expect("generate", climvae_generate(h, &r, buffer, 96), CLIMVAE_OK, h, "");
  CHECK(strcmp(climvae_last_error(h), "") == 0);
  for (int i = 0; i < 96; ++i) CHECK(isfinite(buffer[i]) && buffer[i] > -40 && buffer[i] < 50);
  expect("close", climvae_close(h), CLIMVAE_OK, NULL, "");
  expect("close twice", climvae_close(h), CLIMVAE_ERR_BAD_ARGUMENT, NULL, "not open");
  /* A closed handle is refused by every call, never dereferenced (ASan: no use after free). */
  expect("generate after close", climvae_generate(h, &r, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h, "not open");
  expect("info after close", climvae_model_info_get(h, &info), CLIMVAE_ERR_BAD_ARGUMENT, h, "not open");
  expect("condition after close", climvae_condition(h, &r, buffer, 10, buffer, 96), CLIMVAE_ERR_BAD_ARGUMENT, h,
         "not open");
  expect("table after close", climvae_set_warming_table(h, NULL, NULL, 0, 0), CLIMVAE_ERR_BAD_ARGUMENT, NULL,
         "not open");
  printf("%s: %d failure(s)\n", argv[0], check_failures);
  return check_failures == 0 ? 0 : 1;
}
