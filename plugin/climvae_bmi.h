/* climvae as a BMI 2.0 model (see bmi.h and docs/plugin.md).
 *
 *   Bmi model;
 *   register_bmi_climvae(&model);
 *   model.initialize(&model, "climvae_bmi.ini");
 *   while (time < end) { model.update(&model); model.get_value(&model, "air_temperature", buf); }
 *   model.finalize(&model);
 *
 * Output variable `air_temperature` (float, one value per configured cell on grid 0, type
 * "points", x = longitude, y = latitude); time in seconds since the configured start, step
 * 3600 (update_until takes whole steps; get_value_ptr's buffer always holds the current hour).
 * Config file lines `key = value` (# comments):
 *   model = paris.model        (required)
 *   start = 2022-01-01T00      (UTC; required)
 *   hours = 8760               (run length; required)
 *   cells = 0, 1               (cell indices) or  locations = 48.8 2.3; 52.5 13.4
 *   seed = 1   units = degC (K|degC|degF)   scenario = none|trend|rate   target_year = 2050
 *   warming_rate_k_per_year = 0.03   warming_offset_k = 0   add_noise = 0
 *   (a scenario needs target_year; target_year, the rate and pattern_rate_k_per_year are refused
 *   without the scenario they go with, as they would change nothing)
 *   memory_mib = 4096          (MiB the run may hold; default CLIMVAE_DEFAULT_MEMORY_MIB)
 * Traces are member 0 of each cell for that seed, decoded in one piece at initialize and held for
 * the whole run: a run that would need more than memory_mib is refused at initialize, naming the
 * figure, before anything is allocated. */
#ifndef CLIMVAE_BMI_REGISTER_H
#define CLIMVAE_BMI_REGISTER_H

#include "bmi.h"
#include "climvae.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills model's function table (NextGen's register_bmi convention); returns model. */
CLIMVAE_API Bmi* register_bmi_climvae(Bmi* model);
/* Why the last BMI call on this model returned BMI_FAILURE ("" if none). */
CLIMVAE_API const char* climvae_bmi_last_error(const Bmi* model);

#ifdef __cplusplus
}
#endif
#endif
