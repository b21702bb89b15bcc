// The C ABI of climvae.h over the core library. Every entry point runs inside guarded(), which
// turns every exception into a status and a message, so nothing but a status crosses into the
// host. A handle owns the model and a pool of Vae instances (the network keeps workspace and is
// not thread-safe), so concurrent requests on one handle each get their own.
#include "climvae.h"

#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <map>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "data/units.hpp"
#include "generate/conditioning.hpp"
#include "generate/generator.hpp"
#include "generate/scenario.hpp"
#include "model/model_file.hpp"
#include "request_memory.hpp"

struct climvae_model {
  climvae::ModelFile model;
  std::string path;
  std::atomic<int> verbosity{0};  // read by running requests while another thread may set it
  std::atomic<int64_t> memory_limit_mib{CLIMVAE_DEFAULT_MEMORY_MIB};  // per request (climvae_set_memory_limit)
  std::map<int, double> warming_table_k;  // CLIMVAE_SCENARIO_TABLE (climvae_set_warming_table)
  double warming_pattern_rate_k_per_year = 0;
  mutable std::mutex mutex;  // guards everything below
  std::condition_variable idle_available;
  std::vector<std::unique_ptr<climvae::Vae>> idle;
  int workers = 0;      // Vae instances alive (idle + leased)
  int max_workers = 8;  // more concurrent requests wait for a free one
  mutable std::unordered_map<std::thread::id, std::string> errors;
};

namespace {

using climvae::Error;

// A failure with its status; everything else thrown inside maps to a status in guarded().
struct Failure : std::runtime_error {
  Failure(climvae_status s, const std::string& message) : std::runtime_error(message), status(s) {}
  climvae_status status;
};

[[noreturn]] void fail(climvae_status status, const std::string& message) { throw Failure(status, message); }

thread_local std::string orphan_error;  // failures without a handle

// Handles from climvae_open not yet closed: a closed one is refused, never dereferenced.
std::mutex registry_mutex;
std::set<climvae_model*> open_handles;

bool is_open(const climvae_model* h) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  return open_handles.count(const_cast<climvae_model*>(h)) == 1;
}

void record(const climvae_model* h, const std::string& message) {
  if (h == nullptr || !is_open(h)) {
    orphan_error = message;
    return;
  }
  std::lock_guard<std::mutex> lock(h->mutex);
  h->errors[std::this_thread::get_id()] = message;
}

// Runs body; its exceptions become the status and the calling thread's last error.
template <class Body>
climvae_status guarded(const climvae_model* h, const char* function, climvae_status error_status, Body&& body) {
  climvae_status status = CLIMVAE_OK;
  std::string message;
  try {
    body();
  } catch (const Failure& e) {
    status = e.status;
    message = e.what();
  } catch (const Error& e) {
    status = error_status;
    message = e.what();
  } catch (const std::bad_alloc&) {
    status = CLIMVAE_ERR_OUT_OF_MEMORY;
    message = "out of memory";
  } catch (const std::exception& e) {
    status = CLIMVAE_ERR_INTERNAL;
    message = std::string("internal error: ") + e.what();
  } catch (...) {
    status = CLIMVAE_ERR_INTERNAL;
    message = "internal error (unknown exception)";
  }
  try {
    if (status != CLIMVAE_OK && *function) message = std::string(function) + ": " + message;
    record(h, message);
  } catch (...) {  // no memory even for the message: the status still says what happened
  }
  return status;
}

void require_handle(const climvae_model* h) {
  if (h == nullptr) fail(CLIMVAE_ERR_NULL_HANDLE, "the model handle is NULL (climvae_open failed or was not called)");
  if (!is_open(h))
    fail(CLIMVAE_ERR_BAD_ARGUMENT, "the model handle is not open (closed already, or not from climvae_open?)");
}

void require_pointer(const void* p, const char* name) {
  if (p == nullptr) fail(CLIMVAE_ERR_NULL_POINTER, std::string("argument '") + name + "' is NULL");
}

// --- Kokkos: initialised on first open unless the host did; finalised when the library unloads.

struct KokkosOwner {
  bool ours = false;
  KokkosOwner() {
    if (!Kokkos::is_initialized()) {
      Kokkos::initialize();
      ours = true;
    }
  }
  ~KokkosOwner() {
    if (!ours) return;
    // Views must die before Kokkos: drop the pools of handles the host never closed.
    std::lock_guard<std::mutex> lock(registry_mutex);
    for (climvae_model* h : open_handles) {
      std::lock_guard<std::mutex> hold(h->mutex);
      h->idle.clear();
    }
    Kokkos::finalize();
  }
};

void ensure_kokkos() { static KokkosOwner owner; }  // thread-safe, once; destroyed at exit or dlclose

// --- The pool: one Vae per concurrent request.
class Lease {
 public:
  explicit Lease(climvae_model& h) : h_(h) {
    std::unique_lock<std::mutex> lock(h.mutex);
    h.idle_available.wait(lock, [&] { return !h.idle.empty() || h.workers < h.max_workers; });
    if (!h.idle.empty()) {
      vae_ = std::move(h.idle.back());
      h.idle.pop_back();
      return;
    }
    ++h.workers;
    lock.unlock();
    try {
      vae_ = std::make_unique<climvae::Vae>(h.model.config);
      climvae::load_parameters(*vae_, h.model.parameters);
    } catch (...) {
      std::lock_guard<std::mutex> relock(h.mutex);
      --h.workers;
      h.idle_available.notify_one();
      throw;
    }
  }
  ~Lease() {
    std::lock_guard<std::mutex> lock(h_.mutex);
    h_.idle.push_back(std::move(vae_));
    h_.idle_available.notify_one();
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  climvae::Vae& vae() { return *vae_; }

 private:
  climvae_model& h_;
  std::unique_ptr<climvae::Vae> vae_;
};

// --- Requests.
std::string short_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

double great_circle_km(double lat1, double lon1, double lat2, double lon2) {
  const double rad = M_PI / 180, dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
  const double a = std::pow(std::sin(dlat / 2), 2) + std::cos(lat1 * rad) * std::cos(lat2 * rad) * std::pow(std::sin(dlon / 2), 2);
  return 2 * 6371.0 * std::asin(std::min(1.0, std::sqrt(a)));
}

int nearest_cell(const climvae::ModelFile& m, double lat, double lon, double max_km, double* distance) {
  if (!std::isfinite(lat) || !std::isfinite(lon) || std::fabs(lat) > 90 || std::fabs(lon) > 360)
    fail(CLIMVAE_ERR_BAD_ARGUMENT, "location (" + std::to_string(lat) + ", " + std::to_string(lon) +
                                       ") is not a latitude/longitude in degrees");
  if (!(max_km > 0)) fail(CLIMVAE_ERR_BAD_ARGUMENT, "max_distance_km must be positive, got " + std::to_string(max_km));
  int best = -1;
  double best_km = 0;
  for (size_t c = 0; c < m.cells.size(); ++c) {
    const double d = great_circle_km(lat, lon, m.cells[c].latitude, m.cells[c].longitude);
    if (best < 0 || d < best_km) best = static_cast<int>(c), best_km = d;
  }
  if (best_km > max_km)
    fail(CLIMVAE_ERR_NO_NEARBY_CELL, "no trained cell within " + std::to_string(max_km) + " km of (" +
                                         std::to_string(lat) + ", " + std::to_string(lon) + "); the nearest is cell " +
                                         std::to_string(best) + " at " + std::to_string(best_km) + " km");
  if (distance) *distance = best_km;
  return best;
}

climvae::TemperatureUnit unit_of(int32_t units) {
  switch (units) {
    case CLIMVAE_UNITS_KELVIN: return climvae::TemperatureUnit::kelvin;
    case CLIMVAE_UNITS_CELSIUS: return climvae::TemperatureUnit::celsius;
    case CLIMVAE_UNITS_FAHRENHEIT: return climvae::TemperatureUnit::fahrenheit;
  }
  fail(CLIMVAE_ERR_BAD_ARGUMENT, "units " + std::to_string(units) + " is not CLIMVAE_UNITS_KELVIN, _CELSIUS or _FAHRENHEIT");
}

// The memory a request needs against the handle's limit, before anything is allocated.
void require_memory(const climvae_model& h, const climvae_request& q, bool conditioning) {
  const size_t bytes = conditioning ? climvae::conditioning_bytes(h.model.config, q.hours, q.members)
                                    : climvae::generation_bytes(h.model.config, q.hours, q.members);
  const int64_t need_mib = static_cast<int64_t>(std::ceil(double(bytes) / (1 << 20)));
  const int64_t limit_mib = h.memory_limit_mib.load();
  if (need_mib > limit_mib)
    fail(CLIMVAE_ERR_TOO_LARGE, std::to_string(q.hours) + " hours x " + std::to_string(q.members) + " members need about " +
                                    std::to_string(need_mib) + " MiB (traces and network workspace), more than the " +
                                    "handle's memory limit of " + std::to_string(limit_mib) + " MiB: split the request " +
                                    "(fewer members or hours) or raise the limit with climvae_set_memory_limit");
}

// Checks a request in the order of climvae.h's statuses and turns it into the core's request.
// Nothing is allocated before the sizes are known to fit the caller's buffer and the handle's
// memory limit.
climvae::TraceRequest checked_request(const climvae_model& h, const climvae_request& q, int64_t capacity,
                                      bool conditioning) {
  if (q.hours <= 0) fail(CLIMVAE_ERR_BAD_LENGTH, "hours must be at least 1, got " + std::to_string(q.hours));
  if (q.members <= 0) fail(CLIMVAE_ERR_BAD_LENGTH, "members must be at least 1, got " + std::to_string(q.members));
  if (capacity < 0) fail(CLIMVAE_ERR_BAD_LENGTH, "buffer capacity is negative: " + std::to_string(capacity));
  if (q.members > CLIMVAE_MAX_MEMBERS)
    fail(CLIMVAE_ERR_TOO_LARGE, "members = " + std::to_string(q.members) + " is more than the limit of " +
                                    std::to_string(CLIMVAE_MAX_MEMBERS) + " per request; split the request");
  if (q.hours > CLIMVAE_MAX_HOURS)
    fail(CLIMVAE_ERR_TOO_LARGE, "hours = " + std::to_string(q.hours) + " is more than the limit of " +
                                    std::to_string(CLIMVAE_MAX_HOURS) + " (1000 years)");
  const int64_t values = q.hours * q.members;  // both bounded above: no overflow
  if (values > CLIMVAE_MAX_VALUES)
    fail(CLIMVAE_ERR_TOO_LARGE, std::to_string(q.hours) + " hours x " + std::to_string(q.members) + " members = " +
                                    std::to_string(values) + " values is more than one request may return (" +
                                    std::to_string(CLIMVAE_MAX_VALUES) + "); split the request");
  require_memory(h, q, conditioning);
  if (capacity < values)
    fail(CLIMVAE_ERR_BUFFER_TOO_SMALL, "the output buffer holds " + std::to_string(capacity) + " values; " +
                                           std::to_string(q.hours) + " hours x " + std::to_string(q.members) +
                                           " members need " + std::to_string(values));
  const int cells = static_cast<int>(h.model.cells.size());
  climvae::TraceRequest r;
  if (q.cell >= 0) {
    if (q.cell >= cells)
      fail(CLIMVAE_ERR_UNKNOWN_CELL, "cell " + std::to_string(q.cell) + " is not in the model (it has " +
                                         std::to_string(cells) + " cells, 0.." + std::to_string(cells - 1) + ")");
    r.cell = q.cell;
  } else if (q.cell == -1) {
    r.cell = nearest_cell(h.model, q.latitude, q.longitude, q.max_distance_km, nullptr);
  } else {
    fail(CLIMVAE_ERR_UNKNOWN_CELL, "cell " + std::to_string(q.cell) + " is neither a cell index nor -1 (nearest)");
  }
  if (q.reserved != 0) fail(CLIMVAE_ERR_BAD_ARGUMENT, "request.reserved must be 0 (use climvae_request_defaults)");
  unit_of(q.units);
  if (q.time_base != CLIMVAE_TIME_UTC && q.time_base != CLIMVAE_TIME_LOCAL)
    fail(CLIMVAE_ERR_BAD_ARGUMENT, "time_base " + std::to_string(q.time_base) + " is not CLIMVAE_TIME_UTC or _LOCAL");
  // +-100000 years keeps every hour count far from overflow.
  if (q.start_hour < -876000000LL || q.start_hour > 876000000LL)
    fail(CLIMVAE_ERR_BAD_ARGUMENT, "start_hour " + std::to_string(q.start_hour) + " is beyond +-100000 years of 1970");
  r.start_hour = q.start_hour - (q.time_base == CLIMVAE_TIME_LOCAL ? h.model.cells[r.cell].utc_offset_hours : 0);
  r.hours = q.hours;
  r.members = q.members;
  r.seed = q.seed;
  r.add_noise = q.add_noise != 0;
  r.scenario.offset_k = q.warming_offset_k;
  r.scenario.transient = q.transient != 0;
  r.scenario.slice_year = q.target_year;
  switch (q.scenario) {
    case CLIMVAE_SCENARIO_NONE: break;
    case CLIMVAE_SCENARIO_TREND: r.scenario.path = climvae::Scenario::Path::learned_trend; break;
    case CLIMVAE_SCENARIO_RATE:
      r.scenario.path = climvae::Scenario::Path::rate;
      r.scenario.rate_k_per_year = q.warming_rate_k_per_year;
      break;
    case CLIMVAE_SCENARIO_TABLE:
      if (h.warming_table_k.empty())
        fail(CLIMVAE_ERR_BAD_ARGUMENT, "scenario CLIMVAE_SCENARIO_TABLE needs a warming table (climvae_set_warming_table)");
      r.scenario.path = climvae::Scenario::Path::table;
      r.scenario.table_k = h.warming_table_k;
      r.scenario.table_pattern_rate_k_per_year = h.warming_pattern_rate_k_per_year;
      break;
    default:
      fail(CLIMVAE_ERR_BAD_ARGUMENT, "scenario " + std::to_string(q.scenario) + " is not a CLIMVAE_SCENARIO_* value");
  }
  // The bounds the command line also applies (a rate is checked even when the scenario ignores it).
  climvae::Scenario bounds = r.scenario;
  bounds.rate_k_per_year = q.warming_rate_k_per_year;
  try {
    climvae::validate_scenario(bounds);
  } catch (const Error& e) {
    fail(CLIMVAE_ERR_BAD_ARGUMENT, e.what());
  }
  return r;
}

// Kelvin <-> the request's units (both conversions are affine: reuse to_kelvin for its constants).
struct UnitMap {
  double zero_k, per_unit_k;
  explicit UnitMap(int32_t units) {
    const climvae::TemperatureUnit u = unit_of(units);
    zero_k = climvae::to_kelvin(0, u);
    per_unit_k = climvae::to_kelvin(1, u) - zero_k;
  }
  float from_k(double k) const { return static_cast<float>((k - zero_k) / per_unit_k); }
  float to_k(double v) const { return static_cast<float>(zero_k + per_unit_k * v); }
};

// (time, member) kelvin -> out[member * hours + t] in the request's units.
void deliver(const std::vector<float>& tas_k, const climvae::TraceRequest& r, const UnitMap& units, float* out) {
  for (int64_t t = 0; t < r.hours; ++t)
    for (int m = 0; m < r.members; ++m) out[size_t(m) * r.hours + t] = units.from_k(tas_k[size_t(t) * r.members + m]);
}

void log_request(const climvae_model& h, const char* what, const climvae::TraceRequest& r) {
  if (h.verbosity < 1) return;
  std::printf("climvae: %s cell %d, %s UTC, %lld h x %d members, seed %llu\n", what, r.cell,
              climvae::format_iso_hour(r.start_hour).c_str(), static_cast<long long>(r.hours), r.members,
              static_cast<unsigned long long>(r.seed));
  std::fflush(stdout);
}

climvae_model* open_model(const char* path, int abi_version) {
  if (abi_version != CLIMVAE_ABI_VERSION)
    fail(CLIMVAE_ERR_ABI_VERSION, "the caller was built against climvae ABI version " + std::to_string(abi_version) +
                                      ", this libclimvae provides version " + std::to_string(CLIMVAE_ABI_VERSION) +
                                      "; rebuild the host against this climvae.h");
  require_pointer(path, "path");
  ensure_kokkos();
  auto h = std::make_unique<climvae_model>();
  try {
    h->model = climvae::load_model(path);
  } catch (const Error& e) {
    fail(CLIMVAE_ERR_MODEL_FILE, e.what());
  }
  h->path = path;
  h->max_workers = static_cast<int>(std::max(8u, std::thread::hardware_concurrency()));
  std::lock_guard<std::mutex> lock(registry_mutex);
  open_handles.insert(h.get());
  return h.release();
}

// Seconds a rank waits in climvae_open_shared for the others: CLIMVAE_MPI_TIMEOUT, default 300.
double shared_open_timeout() {
  const char* text = std::getenv("CLIMVAE_MPI_TIMEOUT");
  if (text == nullptr || *text == '\0') return 300;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (*end != '\0' || !(seconds > 0))
    fail(CLIMVAE_ERR_BAD_ARGUMENT, std::string("CLIMVAE_MPI_TIMEOUT must be a positive number of seconds, got '") + text + "'");
  return seconds;
}

// The minimum of `mine` over the ranks of c into `all`, or why not. A rank that never joins (it
// passed another communicator, or failed before the call) would leave the others blocked in a plain
// allreduce for ever: the reduction is non-blocking and abandoned after `timeout` seconds. MPI
// cannot cancel a collective, so the abandoned one keeps its buffers (a few bytes, never freed) and
// the communicator is unusable afterwards.
std::string every_rank_agrees(int mine, MPI_Comm c, double timeout, int& all) {
  struct Reduction {
    int mine = 0, all = 0;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  auto r = std::make_unique<Reduction>();
  r->mine = mine;
  if (MPI_Iallreduce(&r->mine, &r->all, 1, MPI_INT, MPI_MIN, c, &r->request) != MPI_SUCCESS)
    return "MPI_Iallreduce failed on the given communicator";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
  for (int done = 0;;) {
    if (MPI_Test(&r->request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return "MPI_Test failed on the given communicator";
    if (done) {
      all = r->all;
      return "";
    }
    if (std::chrono::steady_clock::now() > deadline) {
      r.release();  // MPI may still write into it
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", timeout);
      return std::string("not every rank of the communicator reached climvae_open_shared within ") + seconds +
             " s (CLIMVAE_MPI_TIMEOUT): a rank passed another communicator or failed before the call; the "
             "communicator is unusable now, end the job";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

size_t climvae_plugin::generation_bytes(const climvae_model* h, int64_t hours, int members) {
  return climvae::generation_bytes(h->model.config, hours, members);
}

extern "C" {

int climvae_abi_version(void) { return CLIMVAE_ABI_VERSION; }

const char* climvae_version_string(void) { return CLIMVAE_VERSION_STRING; }

const char* climvae_status_name(climvae_status status) {
  switch (status) {
    case CLIMVAE_OK: return "CLIMVAE_OK";
    case CLIMVAE_ERR_NULL_HANDLE: return "CLIMVAE_ERR_NULL_HANDLE";
    case CLIMVAE_ERR_NULL_POINTER: return "CLIMVAE_ERR_NULL_POINTER";
    case CLIMVAE_ERR_BUFFER_TOO_SMALL: return "CLIMVAE_ERR_BUFFER_TOO_SMALL";
    case CLIMVAE_ERR_UNKNOWN_CELL: return "CLIMVAE_ERR_UNKNOWN_CELL";
    case CLIMVAE_ERR_NO_NEARBY_CELL: return "CLIMVAE_ERR_NO_NEARBY_CELL";
    case CLIMVAE_ERR_MODEL_FILE: return "CLIMVAE_ERR_MODEL_FILE";
    case CLIMVAE_ERR_ABI_VERSION: return "CLIMVAE_ERR_ABI_VERSION";
    case CLIMVAE_ERR_BAD_LENGTH: return "CLIMVAE_ERR_BAD_LENGTH";
    case CLIMVAE_ERR_TOO_LARGE: return "CLIMVAE_ERR_TOO_LARGE";
    case CLIMVAE_ERR_BAD_ARGUMENT: return "CLIMVAE_ERR_BAD_ARGUMENT";
    case CLIMVAE_ERR_OUT_OF_MEMORY: return "CLIMVAE_ERR_OUT_OF_MEMORY";
    case CLIMVAE_ERR_MPI: return "CLIMVAE_ERR_MPI";
    case CLIMVAE_ERR_INTERNAL: return "CLIMVAE_ERR_INTERNAL";
  }
  return "(unknown climvae_status)";
}

const char* climvae_last_error(const climvae_model* h) {
  if (h == nullptr || !is_open(h)) return orphan_error.c_str();  // a closed handle's failures are recorded there
  std::lock_guard<std::mutex> lock(h->mutex);
  return h->errors[std::this_thread::get_id()].c_str();  // node-based map: stable while this thread waits
}

climvae_status climvae_open(const char* path, int abi_version, climvae_model** model) {
  return guarded(nullptr, "climvae_open", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_pointer(model, "model");
    *model = nullptr;
    *model = open_model(path, abi_version);
  });
}

climvae_status climvae_open_shared(const char* path, int abi_version, int32_t comm, climvae_model** model) {
  return guarded(nullptr, "climvae_open_shared", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_pointer(model, "model");
    *model = nullptr;
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) fail(CLIMVAE_ERR_MPI, "MPI is not initialised (use climvae_open in a non-MPI host)");
    const double timeout = shared_open_timeout();
    MPI_Comm c = MPI_Comm_f2c(comm);
    // Any MPI call on a handle that is no communicator would abort the host's whole job.
    if (c == MPI_COMM_NULL || c == MPI_Comm{})
      fail(CLIMVAE_ERR_MPI, "comm " + std::to_string(comm) + " is not a communicator (pass MPI_Comm_c2f of one)");
    // Any failure of this rank's open is caught here: every rank must reach the allreduce.
    climvae_model* mine = nullptr;
    const climvae_status status =
        guarded(nullptr, "", CLIMVAE_ERR_MODEL_FILE, [&] { mine = open_model(path, abi_version); });
    const std::string why = orphan_error;
    // Every rank learns whether every rank opened the model, so none goes on alone.
    const int ok = status == CLIMVAE_OK ? 1 : 0;
    int all_ok = 0;
    const std::string stuck = every_rank_agrees(ok, c, timeout, all_ok);
    if (!stuck.empty()) {
      if (mine) climvae_close(mine);
      fail(CLIMVAE_ERR_MPI, stuck);
    }
    if (!ok) fail(status, why);
    if (!all_ok) {
      climvae_close(mine);
      fail(CLIMVAE_ERR_MPI, "another rank could not open '" + std::string(path ? path : "(null)") + "'");
    }
    *model = mine;
  });
}

climvae_status climvae_close(climvae_model* h) {
  return guarded(nullptr, "climvae_close", CLIMVAE_ERR_INTERNAL, [&] {
    require_handle(h);
    {
      std::lock_guard<std::mutex> lock(registry_mutex);
      if (open_handles.erase(h) == 0) fail(CLIMVAE_ERR_BAD_ARGUMENT, "the handle is not open (closed twice?)");
    }
    delete h;
  });
}

climvae_status climvae_set_verbosity(climvae_model* h, int level) {
  return guarded(h, "climvae_set_verbosity", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    if (level < 0 || level > 1) fail(CLIMVAE_ERR_BAD_ARGUMENT, "verbosity must be 0 or 1, got " + std::to_string(level));
    h->verbosity = level;
  });
}

climvae_status climvae_set_memory_limit(climvae_model* h, int64_t mib) {
  return guarded(h, "climvae_set_memory_limit", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    if (mib < 1 || mib > climvae::kMaxMemoryMiB)
      fail(CLIMVAE_ERR_BAD_ARGUMENT, "the memory limit must be 1.." + std::to_string(climvae::kMaxMemoryMiB) +
                                         " MiB, got " + std::to_string(mib));
    h->memory_limit_mib = mib;
  });
}

void climvae_request_defaults(climvae_request* r) {
  if (r == nullptr) return;
  std::memset(r, 0, sizeof *r);
  r->hours = 24;
  r->members = 1;
  r->cell = -1;
  r->max_distance_km = 50;
  r->condition_iterations = 8;
}

climvae_status climvae_model_info_get(const climvae_model* h, climvae_model_info* info) {
  return guarded(h, "climvae_model_info_get", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(info, "info");
    info->cells = static_cast<int32_t>(h->model.cells.size());
    info->reference_year = h->model.reference_year;
    info->seconds_per_value = 3600;
    info->hours_per_latent_step = climvae::Vae::kHoursPerStep;
    info->latent_features = h->model.config.latent;
    info->format_version = climvae::kModelFormatVersion;
  });
}

climvae_status climvae_cell_get(const climvae_model* h, int32_t cell, climvae_cell* out) {
  return guarded(h, "climvae_cell_get", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(out, "out");
    const int cells = static_cast<int>(h->model.cells.size());
    if (cell < 0 || cell >= cells)
      fail(CLIMVAE_ERR_UNKNOWN_CELL, "cell " + std::to_string(cell) + " is not in the model (it has " +
                                         std::to_string(cells) + " cells)");
    const climvae::ModelCell& c = h->model.cells[cell];
    *out = climvae_cell{c.latitude, c.longitude, c.trend_k_per_year, c.offset_k, c.scale_k, c.utc_offset_hours, 0};
  });
}

climvae_status climvae_find_cell(const climvae_model* h, double latitude, double longitude, double max_distance_km,
                                 int32_t* cell, double* distance_km) {
  return guarded(h, "climvae_find_cell", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(cell, "cell");
    *cell = nearest_cell(h->model, latitude, longitude, max_distance_km, distance_km);
  });
}

climvae_status climvae_metadata_get(const climvae_model* h, const char* key, char* value, int64_t capacity,
                                    int64_t* length) {
  return guarded(h, "climvae_metadata_get", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(key, "key");
    require_pointer(value, "value");
    if (capacity <= 0) fail(CLIMVAE_ERR_BAD_LENGTH, "capacity must be positive, got " + std::to_string(capacity));
    const auto it = h->model.provenance.find(key);
    if (it == h->model.provenance.end()) {
      std::string known;
      for (const auto& p : h->model.provenance) known += (known.empty() ? "" : ", ") + p.first;
      fail(CLIMVAE_ERR_BAD_ARGUMENT, "the model has no metadata '" + std::string(key) + "' (it has: " + known + ")");
    }
    const std::string& v = it->second;
    if (length) *length = static_cast<int64_t>(v.size());
    if (static_cast<int64_t>(v.size()) >= capacity)
      fail(CLIMVAE_ERR_BUFFER_TOO_SMALL, "metadata '" + std::string(key) + "' needs " + std::to_string(v.size() + 1) +
                                             " bytes, the buffer has " + std::to_string(capacity));
    std::memcpy(value, v.c_str(), v.size() + 1);
  });
}

climvae_status climvae_parse_time(const char* iso, int64_t* hour) {
  return guarded(nullptr, "climvae_parse_time", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_pointer(iso, "iso");
    require_pointer(hour, "hour");
    *hour = climvae::parse_iso_hour(iso);
  });
}

climvae_status climvae_set_warming_table(climvae_model* h, const int32_t* years, const double* offsets_k,
                                         int64_t count, double pattern_rate_k_per_year) {
  return guarded(h, "climvae_set_warming_table", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    if (count < 0 || count > 100000) fail(CLIMVAE_ERR_BAD_LENGTH, "count must be 0..100000, got " + std::to_string(count));
    if (count > 0) {
      require_pointer(years, "years");
      require_pointer(offsets_k, "offsets_k");
    }
    if (!std::isfinite(pattern_rate_k_per_year) || pattern_rate_k_per_year < 0)
      fail(CLIMVAE_ERR_BAD_ARGUMENT, "pattern_rate_k_per_year must be finite and >= 0 (0: no scaling)");
    std::map<int, double> table;
    for (int64_t i = 0; i < count; ++i) {
      const std::string at = "years[" + std::to_string(i) + "] = " + std::to_string(years[i]);
      if (years[i] < 1 || years[i] > 9999) fail(CLIMVAE_ERR_BAD_ARGUMENT, at + " is not a year");
      if (i > 0 && years[i] <= years[i - 1]) fail(CLIMVAE_ERR_BAD_ARGUMENT, at + ": years must increase");
      if (!std::isfinite(offsets_k[i])) fail(CLIMVAE_ERR_BAD_ARGUMENT, "offsets_k[" + std::to_string(i) + "] is not finite");
      table[years[i]] = offsets_k[i];
    }
    h->warming_table_k = std::move(table);
    h->warming_pattern_rate_k_per_year = pattern_rate_k_per_year;
  });
}

climvae_status climvae_load_warming_table(climvae_model* h, const char* path, double pattern_rate_k_per_year) {
  return guarded(h, "climvae_load_warming_table", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(path, "path");
    const std::map<int, double> table = climvae::read_warming_table(path);
    std::vector<int32_t> years;
    std::vector<double> offsets;
    for (const auto& [year, offset] : table) {
      years.push_back(year);
      offsets.push_back(offset);
    }
    const climvae_status s = climvae_set_warming_table(h, years.data(), offsets.data(), int64_t(years.size()),
                                                       pattern_rate_k_per_year);
    if (s != CLIMVAE_OK) fail(s, climvae_last_error(h));
  });
}

climvae_status climvae_generate(climvae_model* h, const climvae_request* request, float* out, int64_t capacity) {
  return guarded(h, "climvae_generate", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(request, "request");
    require_pointer(out, "out");
    const climvae::TraceRequest r = checked_request(*h, *request, capacity, false);
    const UnitMap units(request->units);
    log_request(*h, "generate", r);
    Lease lease(*h);
    const std::vector<float> tas_k = climvae::generate_traces(lease.vae(), h->model, r);
    climvae::check_generated_values(tas_k.data(), tas_k.size(), "cell " + std::to_string(r.cell));
    deliver(tas_k, r, units, out);
  });
}

climvae_status climvae_condition(climvae_model* h, const climvae_request* request, const float* known,
                                 int64_t known_hours, float* out, int64_t capacity) {
  return guarded(h, "climvae_condition", CLIMVAE_ERR_BAD_ARGUMENT, [&] {
    require_handle(h);
    require_pointer(request, "request");
    require_pointer(known, "known");
    require_pointer(out, "out");
    const climvae::TraceRequest r = checked_request(*h, *request, capacity, true);
    if (known_hours <= 0 || known_hours > r.hours)
      fail(CLIMVAE_ERR_BAD_LENGTH, "known_hours must be 1.." + std::to_string(r.hours) + " (the request's hours), got " +
                                       std::to_string(known_hours));
    if (request->condition_iterations < 1 || request->condition_iterations > 100)
      fail(CLIMVAE_ERR_BAD_ARGUMENT, "condition_iterations must be 1..100, got " +
                                         std::to_string(request->condition_iterations));
    const UnitMap units(request->units);
    std::vector<float> known_k(static_cast<size_t>(known_hours));
    for (int64_t t = 0; t < known_hours; ++t) {
      const float v = known[t];
      if (std::isinf(v)) fail(CLIMVAE_ERR_BAD_ARGUMENT, "known[" + std::to_string(t) + "] is infinite (use NaN for gaps)");
      known_k[size_t(t)] = std::isnan(v) ? v : units.to_k(v);
      if (!std::isnan(v) && !(known_k[size_t(t)] >= climvae::kMinPlausibleK && known_k[size_t(t)] <= climvae::kMaxPlausibleK))
        fail(CLIMVAE_ERR_BAD_ARGUMENT, "known[" + std::to_string(t) + "] = " + short_text(v) + " is " +
                                           short_text(known_k[size_t(t)]) + " K, outside " +
                                           short_text(climvae::kMinPlausibleK) + ".." +
                                           short_text(climvae::kMaxPlausibleK) + " K (wrong units?)");
    }
    // `out` may be `known` itself (gaps filled in place): keep the known values before deliver()
    // overwrites them, or every member would get member 0's gap values back as "known".
    const std::vector<float> given(known, known + known_hours);
    log_request(*h, "condition", r);
    Lease lease(*h);
    const std::vector<float> tas_k =
        climvae::condition_traces(lease.vae(), h->model, r, known_k, request->condition_iterations);
    climvae::check_generated_values(tas_k.data(), tas_k.size(), "cell " + std::to_string(r.cell));
    deliver(tas_k, r, units, out);
    // Known hours come back exactly as given, not through a unit round trip.
    for (int m = 0; m < r.members; ++m)
      for (int64_t t = 0; t < known_hours; ++t)
        if (!std::isnan(given[size_t(t)])) out[size_t(m) * r.hours + t] = given[size_t(t)];
  });
}

}  // extern "C"
