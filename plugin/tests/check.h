/* A minimal check macro for the plugin's C tests: counts failures, prints each with its line. */
#ifndef CLIMVAE_PLUGIN_CHECK_H
#define CLIMVAE_PLUGIN_CHECK_H
#include <stdio.h>
static int check_failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++check_failures;                                               \
    }                                                                 \
  } while (0)
#endif
