/* Checks shared by the plugin's C tests: CHECK counts failures and prints each with its line;
 * expect() checks a C ABI call's status and its message. */
#ifndef CLIMVAE_PLUGIN_CHECK_H
#define CLIMVAE_PLUGIN_CHECK_H
#include <stdio.h>
#include <string.h>

#include "climvae.h"

static int check_failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++check_failures;                                               \
    }                                                                 \
  } while (0)

/* status equals want and the thread's last error on h mentions text. */
static inline void expect(const char* what, climvae_status got, climvae_status want, const climvae_model* h,
                          const char* text) {
  const char* message = climvae_last_error(h);
  if (got != want || strstr(message, text) == NULL) {
    fprintf(stderr, "FAIL %s: status %s (wanted %s), message '%s' (wanted '%s')\n", what, climvae_status_name(got),
            climvae_status_name(want), message, text);
    ++check_failures;
  } else {
    printf("ok   %-34s %s: %s\n", what, climvae_status_name(got), message);
  }
}
#endif
