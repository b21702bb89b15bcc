/* Hostile values through the C ABI (run under AddressSanitizer/UBSan in CI): scenario values
 * outside physical bounds and model files with a valid checksum but meaningless content are
 * refused with a message naming the value, and a refused request leaves the caller's buffer
 * untouched. Usage: test_hostile MODEL WORKDIR */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "climvae.h"
#include "climvae_bmi.h"

/* CRC-32 (IEEE, as zlib and the model file). */
static uint32_t crc32_of(const unsigned char* p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

/* Copies model `src` to `dst` with the header line starting with `key ` replaced by `line` (if
 * key) and parameter `param` set to `value` (if param >= 0), under a recomputed, valid checksum. */
static void rewritten_model(const char* src, const char* dst, const char* key, const char* line, long param,
                            float value) {
  FILE* in = fopen(src, "rb");
  CHECK(in != NULL);
  if (!in) exit(1);
  fseek(in, 0, SEEK_END);
  const long size = ftell(in);
  fseek(in, 0, SEEK_SET);
  unsigned char* bytes = malloc((size_t)size);
  CHECK(fread(bytes, 1, (size_t)size, in) == (size_t)size);
  fclose(in);
  /* Header lines up to "end-header"; the crc32 line is not checksummed. */
  char* header = calloc((size_t)size + 256, 1);
  long at = 0, params = -1;
  while (at < size) {
    const unsigned char* end = memchr(bytes + at, '\n', (size_t)(size - at));
    if (!end) break;
    const long length = (long)(end - (bytes + at)) + 1;
    if (length == 11 && memcmp(bytes + at, "end-header\n", 11) == 0) {
      params = at + length;
      break;
    }
    if (key && strncmp((const char*)bytes + at, key, strlen(key)) == 0 && bytes[at + strlen(key)] == ' ') {
      strcat(header, line);
      strcat(header, "\n");
    } else if (strncmp((const char*)bytes + at, "crc32 ", 6) != 0) {
      strncat(header, (const char*)bytes + at, (size_t)length);
    }
    at += length;
  }
  CHECK(params > 0);
  if (params <= 0) exit(1);
  float* weights = (float*)(bytes + params);
  if (param >= 0) memcpy(&weights[param], &value, sizeof value);
  uint32_t crc = crc32_of((const unsigned char*)header, strlen(header), 0);
  crc = crc32_of(bytes + params, (size_t)(size - params), crc);
  FILE* out = fopen(dst, "wb");
  CHECK(out != NULL);
  if (!out) exit(1);
  fprintf(out, "%scrc32 %08x\nend-header\n", header, crc);
  fwrite(bytes + params, 1, (size_t)(size - params), out);
  fclose(out);
  free(header);
  free(bytes);
}

/* A request that must fail: status, message and an untouched buffer. */
static void refused(const char* what, climvae_model* h, const climvae_request* r, const char* text) {
  float buffer[48];
  for (int i = 0; i < 48; ++i) buffer[i] = -12345.0f;
  expect(what, climvae_generate(h, r, buffer, 48), CLIMVAE_ERR_BAD_ARGUMENT, h, text);
  for (int i = 0; i < 48; ++i) CHECK(buffer[i] == -12345.0f);
}

/* A BMI configuration (model, start, then `body`) written into dir and refused at initialize with
 * a message containing `want`. */
static void bmi_refused(const char* model, const char* dir, const char* name, const char* body, const char* want) {
  static int written = 0;
  char ini[4096];
  snprintf(ini, sizeof ini, "%s/hostile_bmi_%d.ini", dir, written++);
  FILE* f = fopen(ini, "w");
  CHECK(f != NULL);
  if (!f) return;
  fprintf(f, "model = %s\nstart = 2022-01-01T00\n%s\n", model, body);
  fclose(f);
  Bmi bmi;
  memset(&bmi, 0, sizeof bmi);
  register_bmi_climvae(&bmi);
  const int status = bmi.initialize(&bmi, ini);
  const char* message = climvae_bmi_last_error(&bmi);
  if (status != BMI_FAILURE || strstr(message, want) == NULL) {
    fprintf(stderr, "FAIL BMI '%s': status %d, message '%s'\n", name, status, message);
    ++check_failures;
  } else {
    printf("ok   BMI %-30s %s\n", name, message);
  }
  bmi.finalize(&bmi);
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* path = argv[1];
  climvae_model* h = NULL;
  CHECK(climvae_open(path, CLIMVAE_ABI_VERSION, &h) == CLIMVAE_OK);
  if (!h) return 1;
  climvae_request base;
  climvae_request_defaults(&base);
  base.cell = 0;
  base.hours = 48;
  base.members = 1;
  float ok[48];
  CHECK(climvae_generate(h, &base, ok, 48) == CLIMVAE_OK);

  /* Scenario values: the same bounds as the command line (src/generate/scenario.hpp). */
  const double offsets[] = {NAN, INFINITY, -INFINITY, 1e300, -500, -1e6, 30.5};
  const char* offset_texts[] = {"warming offset nan", "warming offset inf", "warming offset -inf", "warming offset 1e+300",
                                "warming offset -500", "warming offset -1e+06", "warming offset 30.5"};
  for (int i = 0; i < 7; ++i) {
    climvae_request r = base;
    r.warming_offset_k = offsets[i];
    refused(offset_texts[i], h, &r, offset_texts[i]);
  }
  climvae_request r = base;
  r.scenario = CLIMVAE_SCENARIO_RATE;
  r.transient = 1;
  r.warming_rate_k_per_year = 1e308;
  refused("rate 1e308 transient", h, &r, "warming rate 1e+308 K/year is outside -1..1");
  r = base;
  r.scenario = CLIMVAE_SCENARIO_TREND;
  r.target_year = 99999;
  refused("target year 99999", h, &r, "target year 99999");
  r.target_year = -5;
  refused("target year -5", h, &r, "target year -5");
  /* Inside the bounds, yet 1 K/year for 7000 years leaves any climate: the output check refuses. */
  r = base;
  r.scenario = CLIMVAE_SCENARIO_RATE;
  r.warming_rate_k_per_year = 1;
  r.target_year = 9000;
  refused("plausible output only", h, &r, "outside 150..350 K");
  climvae_close(h);

  /* BMI reaches the same checks through its configuration file. */
  const char* bmi_cases[][2] = {{"warming_offset_k = 1e300", "warming offset 1e+300 K is outside -30..30 K"},
                                {"scenario = rate\ntarget_year = 2050\nwarming_rate_k_per_year = 1e308",
                                 "warming rate 1e+308 K/year"},
                                {"scenario = trend\ntarget_year = 99999", "target year 99999"},
                                {"seed = -1", "'seed' must not be negative, got '-1'"},
                                /* A key given twice is refused, not the last one silently taken. */
                                {"seed = 1\nseed = 2", "line 6: 'seed' is given twice"},
                                {"hours = 48", "line 5: 'hours' is given twice"},
                                /* Keys that would change nothing (the reference climate, silently). */
                                {"scenario = rate\nwarming_rate_k_per_year = 0.5",
                                 "'scenario = rate' warms relative to the model's reference year: give 'target_year'"},
                                {"warming_rate_k_per_year = 0.5\ntarget_year = 2050",
                                 "'warming_rate_k_per_year' goes with 'scenario = rate'"},
                                {"target_year = 2080", "'target_year' goes with 'scenario = trend', 'rate' or 'table'"},
                                {"scenario = trend\ntarget_year = 2080\npattern_rate_k_per_year = 0.3",
                                 "'pattern_rate_k_per_year' scales the 'warming_table'"}};
  for (size_t i = 0; i < sizeof bmi_cases / sizeof bmi_cases[0]; ++i) {
    char body[1024];
    snprintf(body, sizeof body, "hours = 24\ncells = 0\n%s", bmi_cases[i][0]);
    bmi_refused(path, argv[2], bmi_cases[i][0], body, bmi_cases[i][1]);
  }

  /* Memory: the whole run is held from initialize, so it is checked against memory_mib (default
   * CLIMVAE_DEFAULT_MEMORY_MIB) first. 2^31 values of one cell are within the limits on hours and
   * values, yet need about 26 GB (grid, traces and the library's copy): refused, nothing allocated. */
  const char* memory_cases[][2] = {
      {"hours = 21474\ncells = 0\nmembers = 100000", "more than memory_mib = 4096: configure fewer hours"},
      {"hours = 24\ncells = 0, 1\nmembers = 100000\nmemory_mib = 1", "24 hours x 2 cells x 100000 members need about"},
      {"hours = 24\ncells = 0\nmemory_mib = 0", "'memory_mib' must be 1..1073741824, got 0"},
      {"hours = 24\ncells = 0\nmemory_mib = lots", "'memory_mib' is not a number: 'lots'"}};
  for (size_t i = 0; i < sizeof memory_cases / sizeof memory_cases[0]; ++i)
    bmi_refused(path, argv[2], memory_cases[i][0], memory_cases[i][0], memory_cases[i][1]);
  /* BMI counts points and bytes in int: 5369 cells x 100000 members (one hour, within 2^31 values)
   * would wrap get_var_nbytes; refused before the memory check, whatever memory_mib says. */
  {
    static char body[6 * 5369 + 128];
    strcpy(body, "hours = 1\nmembers = 100000\nmemory_mib = 1\ncells = 0");
    char* end = body + strlen(body);
    for (int i = 1; i < 5369; ++i, end += 2) memcpy(end, ",0", 3);
    bmi_refused(path, argv[2], "5369 cells x 100000 members", body, "more points than BMI's int sizes can count");
  }

  /* A config file that is a FIFO is refused, not waited on for ever. */
  {
    char fifo[4096];
    snprintf(fifo, sizeof fifo, "%s/hostile_bmi.fifo", argv[2]);
    remove(fifo);
    CHECK(mkfifo(fifo, 0600) == 0);
    Bmi bmi;
    memset(&bmi, 0, sizeof bmi);
    register_bmi_climvae(&bmi);
    const int status = bmi.initialize(&bmi, fifo);
    const char* message = climvae_bmi_last_error(&bmi);
    if (status != BMI_FAILURE || strstr(message, "is a FIFO, not a regular file") == NULL) {
      fprintf(stderr, "FAIL BMI FIFO config: status %d, message '%s'\n", status, message);
      ++check_failures;
    } else {
      printf("ok   BMI FIFO config                %s\n", message);
    }
    remove(fifo);
  }

  /* Model files with a valid checksum but values no model has. */
  struct {
    const char* what;
    const char* key;
    const char* line;
    long param;
    float value;
    const char* text;
  } models[] = {
      {"NaN weight", NULL, NULL, 10, NAN, "weight 10 nan"},
      {"1e30 weight", NULL, NULL, 3, 1e30f, "weight 3 1.00000"},
      {"reference year -5", "reference_year", "reference_year -5", -1, 0, "reference_year -5"},
      {"reference year 2^31-1", "reference_year", "reference_year 2147483647", -1, 0, "reference_year 2147483647"},
      {"scale 0", "cell", "cell 48.8 2.3 0 0.02 285 0 0", -1, 0, "cell 0 scale_k 0"},
      {"scale negative", "cell", "cell 48.8 2.3 0 0.02 285 -7 0", -1, 0, "cell 0 scale_k -7"},
      {"scale 1e308", "cell", "cell 48.8 2.3 0 0.02 285 1e308 0", -1, 0, "cell 0 scale_k 1e+308"},
      {"UTC offset 2e9", "cell", "cell 48.8 2.3 2000000000 0.02 285 7 0", -1, 0, "cell 0 utc_offset_hours 2000000000"},
      {"latitude 1000", "cell", "cell 1000 2.3 0 0.02 285 7 0", -1, 0, "cell 0 latitude 1000"},
      {"longitude 1e6", "cell", "cell 48.8 1e6 0 0.02 285 7 0", -1, 0, "cell 0 longitude 1000000"},
  };
  for (size_t i = 0; i < sizeof models / sizeof models[0]; ++i) {
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/hostile_%zu.model", argv[2], i);
    rewritten_model(path, bad, models[i].key, models[i].line, models[i].param, models[i].value);
    climvae_model* m = NULL;
    expect(models[i].what, climvae_open(bad, CLIMVAE_ABI_VERSION, &m), CLIMVAE_ERR_MODEL_FILE, NULL, models[i].text);
    CHECK(m == NULL);
    if (m) climvae_close(m);
  }
  /* The rewriter itself keeps a model usable when nothing is changed. */
  char same[4096];
  snprintf(same, sizeof same, "%s/hostile_same.model", argv[2]);
  rewritten_model(path, same, NULL, NULL, -1, 0);
  climvae_model* m = NULL;
  expect("unchanged rewrite opens", climvae_open(same, CLIMVAE_ABI_VERSION, &m), CLIMVAE_OK, NULL, "");
  if (m) climvae_close(m);

  printf("%d failed\n", check_failures);
  return check_failures == 0 ? 0 : 1;
}
