/* climvae.h: the C ABI of libclimvae, for weather generators, impact models and climate-model
 * components that request stochastic hourly 2 m temperature traces from inside their process.
 *
 * Lifetime: climvae_open() -> any number of requests -> climvae_close(). Every call returns a
 * climvae_status; climvae_last_error() explains the last failure of the calling thread.
 * Threading: any number of threads may use one handle at once (each request gets its own
 * network workspace); results depend only on the request, never on threads or timing.
 * Nothing here writes to stdout unless climvae_set_verbosity() asks, throws, exits or aborts.
 * See docs/plugin.md. */
#ifndef CLIMVAE_H
#define CLIMVAE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CLIMVAE_API __attribute__((visibility("default")))
#else
#define CLIMVAE_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of this header; also the shared library's SONAME. */
#define CLIMVAE_ABI_VERSION 1

typedef enum climvae_status {
  CLIMVAE_OK = 0,
  CLIMVAE_ERR_NULL_HANDLE = 1,      /* the handle argument is NULL */
  CLIMVAE_ERR_NULL_POINTER = 2,     /* another pointer argument is NULL */
  CLIMVAE_ERR_BUFFER_TOO_SMALL = 3, /* the caller's buffer holds fewer values than needed */
  CLIMVAE_ERR_UNKNOWN_CELL = 4,     /* cell index outside 0 .. cells - 1 */
  CLIMVAE_ERR_NO_NEARBY_CELL = 5,   /* no trained cell within max_distance_km of the location */
  CLIMVAE_ERR_MODEL_FILE = 6,       /* cannot open, not a model, corrupt or truncated */
  CLIMVAE_ERR_ABI_VERSION = 7,      /* the caller was built against another CLIMVAE_ABI_VERSION */
  CLIMVAE_ERR_BAD_LENGTH = 8,       /* zero or negative hours, members or lengths */
  CLIMVAE_ERR_TOO_LARGE = 9,        /* members or hours beyond the limits below, or more memory than
                                       the handle's limit (climvae_set_memory_limit) */
  CLIMVAE_ERR_BAD_ARGUMENT = 10,    /* any other invalid value (units, scenario, date, ...) */
  CLIMVAE_ERR_OUT_OF_MEMORY = 11,
  CLIMVAE_ERR_MPI = 12,             /* climvae_open_shared: MPI not initialised or a rank failed */
  CLIMVAE_ERR_INTERNAL = 13
} climvae_status;

/* Requests beyond these are refused before anything is allocated. */
#define CLIMVAE_MAX_MEMBERS 100000
#define CLIMVAE_MAX_HOURS (24LL * 366 * 1000)
#define CLIMVAE_MAX_VALUES (1LL << 31) /* hours * members of one request */
/* The working memory one request may take unless climvae_set_memory_limit says otherwise, MiB. */
#define CLIMVAE_DEFAULT_MEMORY_MIB 4096

enum { CLIMVAE_UNITS_KELVIN = 0, CLIMVAE_UNITS_CELSIUS = 1, CLIMVAE_UNITS_FAHRENHEIT = 2 };
enum { CLIMVAE_TIME_UTC = 0, CLIMVAE_TIME_LOCAL = 1 }; /* local = the cell's local solar time */
enum {
  CLIMVAE_SCENARIO_NONE = 0,  /* the model's reference-year climate (+ warming_offset_k) */
  CLIMVAE_SCENARIO_TREND = 1, /* each cell's learned trend, at target_year or transient */
  CLIMVAE_SCENARIO_RATE = 2,  /* warming_rate_k_per_year from the reference year */
  CLIMVAE_SCENARIO_TABLE = 3  /* the handle's warming table (climvae_set_warming_table) */
};

/* One request. Fill with climvae_request_defaults() and change what you need; the layout is
 * fixed for an ABI version (8-byte fields first, no hidden padding; Fortran and ctypes mirror it). */
typedef struct climvae_request {
  int64_t start_hour;       /* first hour, hours since 1970-01-01T00 (see time_base) */
  int64_t hours;            /* length of each trace, >= 1 */
  uint64_t seed;            /* traces are keyed by (seed, cell, start, member) */
  double latitude;          /* used when cell < 0: the nearest trained cell ... */
  double longitude;         /* ... degrees north / east */
  double max_distance_km;   /* ... within this great-circle distance (default 50) */
  double warming_rate_k_per_year; /* CLIMVAE_SCENARIO_RATE; within +-1 K/year */
  double warming_offset_k;  /* constant warming added on top of any scenario; within +-30 K */
  int32_t cell;             /* >= 0: cell index; -1 (default): nearest to latitude/longitude */
  int32_t members;          /* >= 1 (default 1) */
  int32_t units;            /* CLIMVAE_UNITS_* of the output (and of conditioning input) */
  int32_t time_base;        /* CLIMVAE_TIME_UTC (default) or CLIMVAE_TIME_LOCAL */
  int32_t scenario;         /* CLIMVAE_SCENARIO_* */
  int32_t target_year;      /* scenario time slice, 1..9999; 0: the reference year */
  int32_t transient;        /* nonzero: warming follows each hour's own date */
  int32_t add_noise;        /* nonzero: add the learned observation noise */
  int32_t condition_iterations; /* climvae_condition: encode/decode rounds (default 8) */
  int32_t reserved;         /* must be 0 */
} climvae_request;

/* A trained cell: where it is and how its series was standardised. */
typedef struct climvae_cell {
  double latitude, longitude;
  double trend_k_per_year; /* removed relative to the reference year in training */
  double offset_k, scale_k;
  int32_t utc_offset_hours; /* local solar time = UTC + this */
  int32_t reserved;
} climvae_cell;

typedef struct climvae_model_info {
  int32_t cells;
  int32_t reference_year;     /* the climate the model represents without a scenario */
  int32_t seconds_per_value;  /* time resolution of traces: 3600 */
  int32_t hours_per_latent_step; /* 96 */
  int32_t latent_features;
  int32_t format_version;     /* of the model file */
} climvae_model_info;

typedef struct climvae_model climvae_model; /* opaque */

CLIMVAE_API int climvae_abi_version(void);
CLIMVAE_API const char* climvae_version_string(void);

/* Opens a model file. abi_version must be CLIMVAE_ABI_VERSION as the caller saw it. Initialises
 * Kokkos on first use if the host has not (finalised at process exit). *model is NULL on failure. */
CLIMVAE_API climvae_status climvae_open(const char* path, int abi_version, climvae_model** model);
/* The same for an MPI host: collective over the Fortran communicator `comm` (MPI_Comm_c2f), so
 * either every rank gets a handle or every rank gets an error. Requests stay independent. A rank
 * waits at most CLIMVAE_MPI_TIMEOUT seconds (environment, default 300) for the others, then gets
 * CLIMVAE_ERR_MPI: a rank that passed another communicator cannot hang the rest. */
CLIMVAE_API climvae_status climvae_open_shared(const char* path, int abi_version, int32_t comm, climvae_model** model);
/* Frees the handle; no request may be running on it. NULL gives CLIMVAE_ERR_NULL_HANDLE. */
CLIMVAE_API climvae_status climvae_close(climvae_model* model);

/* The calling thread's last error message on this handle ("" if none); with NULL, the last
 * failure of this thread that had no handle (e.g. climvae_open). Valid until this thread's next
 * call on the same handle. */
CLIMVAE_API const char* climvae_last_error(const climvae_model* model);
CLIMVAE_API const char* climvae_status_name(climvae_status status);

/* 0: silent (default); 1: one line per request on stdout. */
CLIMVAE_API climvae_status climvae_set_verbosity(climvae_model* model, int level);

/* The most working memory one request on this handle may take, MiB (1 .. 1073741824; default
 * CLIMVAE_DEFAULT_MEMORY_MIB): the library's own copy of the traces, the network's workspace and
 * the calibration noise, the caller's buffer not counted. A request that would need more is
 * refused with CLIMVAE_ERR_TOO_LARGE, naming both figures, before anything is allocated (the
 * limits on hours and members alone allow requests of tens of GB). */
CLIMVAE_API climvae_status climvae_set_memory_limit(climvae_model* model, int64_t mib);

CLIMVAE_API void climvae_request_defaults(climvae_request* request);

CLIMVAE_API climvae_status climvae_model_info_get(const climvae_model* model, climvae_model_info* info);
CLIMVAE_API climvae_status climvae_cell_get(const climvae_model* model, int32_t cell, climvae_cell* out);
/* Nearest cell to a location within max_distance_km; distance_km may be NULL. */
CLIMVAE_API climvae_status climvae_find_cell(const climvae_model* model, double latitude, double longitude,
                                             double max_distance_km, int32_t* cell, double* distance_km);
/* Provenance entry `key` (store, epochs, seed, version, ...) copied into value[capacity], NUL
 * terminated; *length (may be NULL) gets its length. Unknown key: CLIMVAE_ERR_BAD_ARGUMENT. */
CLIMVAE_API climvae_status climvae_metadata_get(const climvae_model* model, const char* key, char* value,
                                                int64_t capacity, int64_t* length);

/* Hours since 1970-01-01T00 of "YYYY-MM-DD[THH[:00]]". */
CLIMVAE_API climvae_status climvae_parse_time(const char* iso, int64_t* hour);

/* The warming table that requests with scenario CLIMVAE_SCENARIO_TABLE follow: annual offsets
 * offsets_k[i] (K relative to the model's reference year) at years[i] (strictly increasing),
 * linear in between; count 0 removes it. pattern_rate_k_per_year > 0 scales the offsets per
 * cell by the cell's learned trend / this rate (0: the same offsets everywhere). The table is
 * copied. Not while a request on the same handle is running. */
CLIMVAE_API climvae_status climvae_set_warming_table(climvae_model* model, const int32_t* years,
                                                     const double* offsets_k, int64_t count,
                                                     double pattern_rate_k_per_year);
/* The same from a CSV file of `year,offset_K` lines (a header line and # comments allowed), the
 * format of `climvae generate --warming-table`. */
CLIMVAE_API climvae_status climvae_load_warming_table(climvae_model* model, const char* path,
                                                      double pattern_rate_k_per_year);

/* Traces sampled from the seasonal prior into out[member * hours + t] (capacity values). */
CLIMVAE_API climvae_status climvae_generate(climvae_model* model, const climvae_request* request, float* out,
                                            int64_t capacity);

/* Traces conditioned on what the host knows: known[t] for t < known_hours (known_hours <=
 * request->hours) in the request's units and time base, NaN where unknown. Known hours are
 * returned unchanged in every member; gaps are filled and hours after known_hours continued
 * consistently with them. Same output layout as climvae_generate. */
CLIMVAE_API climvae_status climvae_condition(climvae_model* model, const climvae_request* request,
                                             const float* known, int64_t known_hours, float* out, int64_t capacity);

#ifdef __cplusplus
}
#endif
#endif /* CLIMVAE_H */
