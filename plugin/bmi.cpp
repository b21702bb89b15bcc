// BMI 2.0 over the C ABI: initialize reads a `key = value` file, opens the model and decodes
// every configured cell's traces for the whole run in one piece (traces have no seams); update
// steps an hour; getters read the current hour. With `members = N` the grid's points are
// (member, cell) pairs, member-major: point m * cells + c; with `member = M` this instance
// serves realization M alone (one BMI instance per member, as NextGen-style hosts run them),
// the same trace as member M of an N-member instance. Every function returns BMI_SUCCESS or
// BMI_FAILURE with the reason in climvae_bmi_last_error(); nothing throws into the host.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "climvae_bmi.h"
#include "common/file_io.hpp"
#include "generate/generator.hpp"
#include "request_memory.hpp"

namespace {

constexpr const char* kVariable = "air_temperature";
constexpr double kStep = 3600.0;  // seconds per value

struct BmiFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct State {
  climvae_model* model = nullptr;
  std::vector<double> lat, lon;  // per point
  std::vector<float> values;  // (hour, point)
  // The current hour's values: get_value_ptr hands out this one buffer, refreshed by every step,
  // so a host that keeps the pointer reads the current hour, not the hour it asked at.
  std::vector<float> now_values;
  int64_t hours = 0, now = 0;  // now: hours since start
  std::string units = "K";
  ~State() {
    if (model) climvae_close(model);
  }
  int points() const { return static_cast<int>(lat.size()); }
  const float* current() const { return now_values.data(); }
  void step_to(int64_t hour) {
    now = hour;
    const float* at = values.data() + size_t(std::min(now, hours - 1)) * points();
    std::copy(at, at + points(), now_values.begin());
  }
};

thread_local std::string bmi_error;

template <class Body>
int guarded(const char* function, Body&& body) {
  try {
    body();
    return BMI_SUCCESS;
  } catch (const std::exception& e) {
    try {
      bmi_error = std::string(function) + ": " + e.what();
    } catch (...) {
    }
  } catch (...) {
    bmi_error = function;
  }
  return BMI_FAILURE;
}

// For cold paths (initialize, config): the caller builds the message even when ok. The getters
// called every step throw BmiFailure themselves, building a message only on failure.
void need(bool ok, const std::string& message) {
  if (!ok) throw BmiFailure(message);
}

State& state_of(Bmi* self) {
  need(self != nullptr, "the Bmi pointer is NULL");
  need(self->data != nullptr, "the model is not initialized");
  return *static_cast<State*>(self->data);
}

// Called by every getter (each hour for get_value): the message is built only on failure.
void check_variable(const char* name) {
  if (name == nullptr || std::strcmp(name, kVariable) != 0)
    throw BmiFailure(std::string("unknown variable '") + (name ? name : "(null)") + "'; climvae provides '" + kVariable + "'");
}

void check_grid(int grid) {
  if (grid != 0) throw BmiFailure("unknown grid " + std::to_string(grid) + "; climvae has grid 0");
}

void copy_text(char* dest, const std::string& text) {
  need(dest != nullptr, "the destination is NULL");
  std::memcpy(dest, text.c_str(), text.size() + 1);
}

void check(climvae_status s, const climvae_model* model) {
  if (s != CLIMVAE_OK) throw BmiFailure(climvae_last_error(model));
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

using Config = std::map<std::string, std::string>;

Config read_config(const std::string& path) {
  climvae::require_regular_input(path, "config file");  // a FIFO would block the open for ever
  std::ifstream in(path);
  need(in.good(), "cannot open config file '" + path + "'");
  Config kv;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const auto eq = line.find('=');
    need(eq != std::string::npos, path + " line " + std::to_string(n) + ": expected 'key = value', got '" + line + "'");
    const std::string key = trim(line.substr(0, eq));
    need(kv.count(key) == 0, path + " line " + std::to_string(n) + ": '" + key + "' is given twice");
    kv[key] = trim(line.substr(eq + 1));
  }
  return kv;
}

// Whole-string number, or a failure naming the key.
template <class T>
T number(const Config& kv, const std::string& key, T fallback, const std::string& path) {
  const auto it = kv.find(key);
  if (it == kv.end()) return fallback;
  std::istringstream s(it->second);
  T v{};
  need(static_cast<bool>(s >> v) && (s >> std::ws).eof(), path + ": '" + key + "' is not a number: '" + it->second + "'");
  // An unsigned value reads "-1" as its maximum: refuse it rather than use another seed.
  need(std::is_signed<T>::value || it->second.find('-') == std::string::npos,
       path + ": '" + key + "' must not be negative, got '" + it->second + "'");
  return v;
}

// The config file's keys, each known, with the required ones present.
Config read_checked_config(const std::string& path) {
  const Config kv = read_config(path);
  const std::string known[] = {"model", "start", "hours", "cells", "locations", "seed", "units", "scenario",
                               "target_year", "warming_rate_k_per_year", "warming_offset_k", "add_noise",
                               "members", "member", "warming_table", "pattern_rate_k_per_year", "memory_mib"};
  for (const auto& p : kv)
    need(std::find(std::begin(known), std::end(known), p.first) != std::end(known),
         path + ": unknown key '" + p.first + "'");
  for (const char* key : {"model", "start", "hours"}) need(kv.count(key) == 1, path + ": '" + key + "' is required");
  return kv;
}

// The request's time, seed, units and scenario (the warming table loaded into the open model).
climvae_request request_of(const Config& kv, const std::string& path, State& st) {
  climvae_request r;
  climvae_request_defaults(&r);
  check(climvae_parse_time(kv.at("start").c_str(), &r.start_hour), nullptr);
  r.hours = number<int64_t>(kv, "hours", 0, path);
  r.seed = number<uint64_t>(kv, "seed", 0, path);
  r.target_year = number<int32_t>(kv, "target_year", 0, path);
  r.warming_rate_k_per_year = number<double>(kv, "warming_rate_k_per_year", 0, path);
  r.warming_offset_k = number<double>(kv, "warming_offset_k", 0, path);
  r.add_noise = number<int32_t>(kv, "add_noise", 0, path);
  const std::string units = kv.count("units") ? kv.at("units") : "K";
  const std::map<std::string, int32_t> unit_codes = {
      {"K", CLIMVAE_UNITS_KELVIN}, {"degC", CLIMVAE_UNITS_CELSIUS}, {"degF", CLIMVAE_UNITS_FAHRENHEIT}};
  need(unit_codes.count(units) == 1, path + ": units must be K, degC or degF, got '" + units + "'");
  r.units = unit_codes.at(units);
  st.units = units;
  const std::string scenario = kv.count("scenario") ? kv.at("scenario") : "none";
  const std::map<std::string, int32_t> scenario_codes = {
      {"none", CLIMVAE_SCENARIO_NONE}, {"trend", CLIMVAE_SCENARIO_TREND}, {"rate", CLIMVAE_SCENARIO_RATE},
      {"table", CLIMVAE_SCENARIO_TABLE}};
  need(scenario_codes.count(scenario) == 1, path + ": scenario must be none, trend, rate or table, got '" + scenario + "'");
  r.scenario = scenario_codes.at(scenario);
  need((r.scenario == CLIMVAE_SCENARIO_TABLE) == (kv.count("warming_table") == 1),
       path + ": 'warming_table' goes with 'scenario = table' (and is required by it)");
  // Keys that would change nothing are refused, as `climvae generate` refuses the same options:
  // without them a forgotten 'scenario' or 'target_year' silently gives the reference climate.
  need(!kv.count("warming_rate_k_per_year") || r.scenario == CLIMVAE_SCENARIO_RATE,
       path + ": 'warming_rate_k_per_year' goes with 'scenario = rate'");
  need(!kv.count("pattern_rate_k_per_year") || r.scenario == CLIMVAE_SCENARIO_TABLE,
       path + ": 'pattern_rate_k_per_year' scales the 'warming_table' of 'scenario = table'");
  need(r.scenario != CLIMVAE_SCENARIO_NONE || !kv.count("target_year"),
       path + ": 'target_year' goes with 'scenario = trend', 'rate' or 'table' (with none it changes nothing)");
  need(r.scenario == CLIMVAE_SCENARIO_NONE || kv.count("target_year"),
       path + ": 'scenario = " + scenario + "' warms relative to the model's reference year: give 'target_year', " +
           "or it changes nothing");
  if (kv.count("warming_table"))
    check(climvae_load_warming_table(st.model, kv.at("warming_table").c_str(),
                                     number<double>(kv, "pattern_rate_k_per_year", 0, path)),
          st.model);
  return r;
}

// All members on one grid, or one member (realization M, 1-based) per instance: sets the members
// to generate, returns how many this instance serves.
int32_t configure_members(const Config& kv, const std::string& path, climvae_request& r) {
  need(kv.count("members") + kv.count("member") <= 1, path + ": give at most one of 'members' and 'member'");
  const int32_t members = number<int32_t>(kv, "members", 1, path);
  const int32_t member = number<int32_t>(kv, "member", 0, path);
  need(members >= 1 && members <= CLIMVAE_MAX_MEMBERS, path + ": 'members' must be 1.." + std::to_string(CLIMVAE_MAX_MEMBERS));
  need(!kv.count("member") || (member >= 1 && member <= CLIMVAE_MAX_MEMBERS),
       path + ": 'member' must be a realization number 1.." + std::to_string(CLIMVAE_MAX_MEMBERS));
  r.members = kv.count("member") ? member : members;  // member M: generate 1..M, keep M
  return kv.count("member") ? 1 : members;
}

// Cells by index, or by location (nearest cell within the request's tolerance).
std::vector<int32_t> configured_cells(const Config& kv, const std::string& path, const climvae_model* model,
                                      double max_distance_km) {
  std::vector<int32_t> cells;
  need(kv.count("cells") + kv.count("locations") == 1, path + ": give exactly one of 'cells' and 'locations'");
  if (kv.count("cells")) {
    std::istringstream s(kv.at("cells"));
    for (std::string item; std::getline(s, item, ',');) {
      std::istringstream one(item);
      int32_t c = 0;
      need(static_cast<bool>(one >> c) && (one >> std::ws).eof(), path + ": 'cells' item '" + trim(item) + "' is not an index");
      cells.push_back(c);
    }
  } else {
    std::istringstream s(kv.at("locations"));
    for (std::string item; std::getline(s, item, ';');) {
      std::istringstream one(item);
      double lat = 0, lon = 0;
      need(static_cast<bool>(one >> lat >> lon) && (one >> std::ws).eof(),
           path + ": 'locations' item '" + trim(item) + "' is not 'latitude longitude'");
      int32_t c = 0;
      check(climvae_find_cell(model, lat, lon, max_distance_km, &c, nullptr), model);
      cells.push_back(c);
    }
  }
  need(!cells.empty(), path + ": no cells configured");
  return cells;
}

// The whole run is decoded at initialize and held: its memory (the grid's values for every hour,
// one cell's traces, and what each climvae_generate takes) is checked against `memory_mib` before
// anything is allocated, and the handle gets the same limit.
void require_memory(const Config& kv, const std::string& path, climvae_model* model, const climvae_request& r,
                    size_t cells, int32_t served) {
  constexpr int64_t kMaxMiB = climvae::kMaxMemoryMiB;
  const int64_t limit_mib = number<int64_t>(kv, "memory_mib", CLIMVAE_DEFAULT_MEMORY_MIB, path);
  need(limit_mib >= 1 && limit_mib <= kMaxMiB,
       path + ": 'memory_mib' must be 1.." + std::to_string(kMaxMiB) + ", got " + std::to_string(limit_mib));
  const double grid = double(cells) * served * (double(r.hours) * sizeof(float) + 2 * sizeof(double));  // + lat, lon
  const double traces = double(r.hours) * r.members * sizeof(float);
  const double bytes = grid + traces + double(climvae_plugin::generation_bytes(model, r.hours, r.members));
  const int64_t need_mib = static_cast<int64_t>(std::ceil(bytes / (1 << 20)));
  need(need_mib <= limit_mib,
       path + ": " + std::to_string(r.hours) + " hours x " + std::to_string(cells) + " cells x " +
           std::to_string(r.members) + " members need about " + std::to_string(need_mib) + " MiB (" +
           std::to_string(static_cast<int64_t>(std::ceil(grid / (1 << 20)))) +
           " MiB of grid values, the rest traces and network workspace), more than memory_mib = " +
           std::to_string(limit_mib) + ": configure fewer hours, cells or members, or raise 'memory_mib'");
  check(climvae_set_memory_limit(model, limit_mib), model);
}

// Decodes every served (member, cell) point's trace for the whole run into st.values.
void decode_all(State& st, const Config& kv, climvae_request r, const std::vector<int32_t>& cells, int32_t served,
                const std::string& path) {
  need(r.hours >= 1 && r.hours <= CLIMVAE_MAX_HOURS, path + ": 'hours' must be 1.." + std::to_string(CLIMVAE_MAX_HOURS));
  need(double(r.hours) * cells.size() * r.members <= double(CLIMVAE_MAX_VALUES),
       path + ": hours x cells x members is too large for one run");
  // BMI counts in int: get_grid_size the points, get_var_nbytes their bytes (which would wrap).
  need(double(cells.size()) * served * sizeof(float) <= double(INT_MAX),
       path + ": " + std::to_string(cells.size()) + " cells x " + std::to_string(served) +
           " members are more points than BMI's int sizes can count (get_var_nbytes); configure fewer");
  require_memory(kv, path, st.model, r, cells.size(), served);
  st.hours = r.hours;
  const size_t n = cells.size(), points = n * size_t(served);
  st.values.assign(size_t(r.hours) * points, 0.0f);
  st.lat.resize(points);
  st.lon.resize(points);
  std::vector<float> traces(size_t(r.hours) * size_t(r.members));  // [member * hours + t]
  for (size_t i = 0; i < n; ++i) {
    climvae_cell info;
    check(climvae_cell_get(st.model, cells[i], &info), st.model);
    r.cell = cells[i];
    check(climvae_generate(st.model, &r, traces.data(), int64_t(traces.size())), st.model);
    for (int32_t k = 0; k < served; ++k) {
      const size_t point = size_t(k) * n + i;
      const size_t m = size_t(r.members - served + k);  // member M alone: the last one generated
      st.lat[point] = info.latitude;
      st.lon[point] = info.longitude;
      for (int64_t t = 0; t < r.hours; ++t) st.values[size_t(t) * points + point] = traces[m * size_t(r.hours) + size_t(t)];
    }
  }
  st.now_values.resize(points);
  st.step_to(0);
}

// The phases of BMI initialize: the config file, the model, the request, members, cells, decoding.
void initialize(State& st, const std::string& path) {
  const Config kv = read_checked_config(path);
  check(climvae_open(kv.at("model").c_str(), CLIMVAE_ABI_VERSION, &st.model), nullptr);
  climvae_request r = request_of(kv, path, st);
  const int32_t served = configure_members(kv, path, r);
  const std::vector<int32_t> cells = configured_cells(kv, path, st.model, r.max_distance_km);
  decode_all(st, kv, r, cells, served, path);
}

// --- The function table.
int bmi_initialize(Bmi* self, const char* config_file) {
  return guarded("initialize", [&] {
    need(self != nullptr && config_file != nullptr, "NULL argument");
    need(self->data == nullptr, "already initialized (finalize first)");
    auto st = std::make_unique<State>();
    initialize(*st, config_file);
    self->data = st.release();
  });
}
int bmi_update(Bmi* self) {
  return guarded("update", [&] {
    State& st = state_of(self);
    need(st.now < st.hours, "the run has reached its end time");
    st.step_to(st.now + 1);
  });
}
int bmi_update_until(Bmi* self, double then) {
  return guarded("update_until", [&] {
    State& st = state_of(self);
    if (!(std::isfinite(then) && then >= st.now * kStep && then <= st.hours * kStep))
      throw BmiFailure("time " + std::to_string(then) + " s is not between now and the end time");
    // Values are hourly: a time between steps would leave the model before `then` (a host
    // looping until its current time reaches `then` would loop for ever).
    if (std::floor(then / kStep) * kStep != then)
      throw BmiFailure("time " + std::to_string(then) + " s is not a whole number of " + std::to_string(int(kStep)) +
                       " s steps (climvae's values are hourly)");
    st.step_to(static_cast<int64_t>(then / kStep));
  });
}
int bmi_finalize(Bmi* self) {
  return guarded("finalize", [&] {
    need(self != nullptr, "the Bmi pointer is NULL");
    delete static_cast<State*>(self->data);
    self->data = nullptr;
  });
}
int bmi_component_name(Bmi*, char* name) { return guarded("get_component_name", [&] { copy_text(name, "climvae"); }); }
int bmi_input_count(Bmi*, int* count) {
  return guarded("get_input_item_count", [&] { need(count, "NULL count"); *count = 0; });
}
int bmi_output_count(Bmi*, int* count) {
  return guarded("get_output_item_count", [&] { need(count, "NULL count"); *count = 1; });
}
int bmi_input_names(Bmi*, char**) { return BMI_SUCCESS; }  // none
int bmi_output_names(Bmi*, char** names) {
  return guarded("get_output_var_names", [&] { need(names, "NULL names"); copy_text(names[0], kVariable); });
}
int bmi_var_grid(Bmi*, const char* name, int* grid) {
  return guarded("get_var_grid", [&] { check_variable(name); need(grid, "NULL grid"); *grid = 0; });
}
int bmi_var_type(Bmi*, const char* name, char* type) {
  return guarded("get_var_type", [&] { check_variable(name); copy_text(type, "float"); });
}
int bmi_var_units(Bmi* self, const char* name, char* units) {
  return guarded("get_var_units", [&] { check_variable(name); copy_text(units, state_of(self).units); });
}
int bmi_var_itemsize(Bmi*, const char* name, int* size) {
  return guarded("get_var_itemsize", [&] { check_variable(name); need(size, "NULL size"); *size = sizeof(float); });
}
int bmi_var_nbytes(Bmi* self, const char* name, int* nbytes) {
  return guarded("get_var_nbytes", [&] {
    check_variable(name);
    need(nbytes, "NULL nbytes");
    *nbytes = static_cast<int>(sizeof(float)) * state_of(self).points();
  });
}
int bmi_var_location(Bmi*, const char* name, char* location) {
  return guarded("get_var_location", [&] { check_variable(name); copy_text(location, "node"); });
}
int bmi_current_time(Bmi* self, double* t) {
  return guarded("get_current_time", [&] { need(t, "NULL time"); *t = state_of(self).now * kStep; });
}
int bmi_start_time(Bmi*, double* t) { return guarded("get_start_time", [&] { need(t, "NULL time"); *t = 0; }); }
int bmi_end_time(Bmi* self, double* t) {
  return guarded("get_end_time", [&] { need(t, "NULL time"); *t = state_of(self).hours * kStep; });
}
int bmi_time_units(Bmi*, char* units) { return guarded("get_time_units", [&] { copy_text(units, "s"); }); }
int bmi_time_step(Bmi*, double* step) { return guarded("get_time_step", [&] { need(step, "NULL step"); *step = kStep; }); }
int bmi_get_value(Bmi* self, const char* name, void* dest) {
  return guarded("get_value", [&] {
    check_variable(name);
    const State& st = state_of(self);
    need(dest, "NULL destination");
    std::memcpy(dest, st.current(), sizeof(float) * st.points());
  });
}
int bmi_get_value_ptr(Bmi* self, const char* name, void** ptr) {
  return guarded("get_value_ptr", [&] {
    check_variable(name);
    need(ptr, "NULL destination");
    *ptr = const_cast<float*>(state_of(self).current());
  });
}
int bmi_get_value_at_indices(Bmi* self, const char* name, void* dest, int* inds, int count) {
  return guarded("get_value_at_indices", [&] {
    check_variable(name);
    const State& st = state_of(self);
    need(dest && inds && count >= 0, "NULL destination or indices, or negative count");
    for (int i = 0; i < count; ++i) {
      if (inds[i] < 0 || inds[i] >= st.points())
        throw BmiFailure("index " + std::to_string(inds[i]) + " is not a point of the grid (0.." +
                         std::to_string(st.points() - 1) + ")");
      static_cast<float*>(dest)[i] = st.current()[inds[i]];
    }
  });
}
int bmi_set_value(Bmi*, const char* name, void*) {
  return guarded("set_value", [&] { throw BmiFailure(std::string("climvae has no input variables (") + (name ? name : "") + ")"); });
}
int bmi_set_value_at_indices(Bmi*, const char* name, int*, int, void*) { return bmi_set_value(nullptr, name, nullptr); }
int bmi_grid_rank(Bmi*, int grid, int* rank) {
  return guarded("get_grid_rank", [&] { check_grid(grid); need(rank, "NULL rank"); *rank = 1; });
}
int bmi_grid_size(Bmi* self, int grid, int* size) {
  return guarded("get_grid_size", [&] { check_grid(grid); need(size, "NULL size"); *size = state_of(self).points(); });
}
int bmi_grid_type(Bmi*, int grid, char* type) {
  return guarded("get_grid_type", [&] { check_grid(grid); copy_text(type, "points"); });
}
int bmi_grid_coordinates(Bmi* self, int grid, double* out, bool x) {
  return guarded(x ? "get_grid_x" : "get_grid_y", [&] {
    check_grid(grid);
    const State& st = state_of(self);
    need(out, "NULL destination");
    std::copy((x ? st.lon : st.lat).begin(), (x ? st.lon : st.lat).end(), out);
  });
}
int bmi_grid_x(Bmi* self, int grid, double* x) { return bmi_grid_coordinates(self, grid, x, true); }
int bmi_grid_y(Bmi* self, int grid, double* y) { return bmi_grid_coordinates(self, grid, y, false); }
int bmi_grid_node_count(Bmi* self, int grid, int* count) { return bmi_grid_size(self, grid, count); }
int bmi_grid_zero_count(Bmi*, int grid, int* count) {  // points: no edges, no faces
  return guarded("get_grid_edge/face_count", [&] { check_grid(grid); need(count, "NULL count"); *count = 0; });
}
// Queries that a "points" grid does not answer.
int bmi_not_for_points_int(Bmi*, int, int*) {
  bmi_error = "climvae's grid is of type 'points': no shape, edges, faces or z";
  return BMI_FAILURE;
}
int bmi_not_for_points_double(Bmi* self, int grid, double*) { return bmi_not_for_points_int(self, grid, nullptr); }

}  // namespace

extern "C" {

Bmi* register_bmi_climvae(Bmi* m) {
  if (m == nullptr) return nullptr;
  *m = Bmi{};
  m->initialize = bmi_initialize;
  m->update = bmi_update;
  m->update_until = bmi_update_until;
  m->finalize = bmi_finalize;
  m->get_component_name = bmi_component_name;
  m->get_input_item_count = bmi_input_count;
  m->get_output_item_count = bmi_output_count;
  m->get_input_var_names = bmi_input_names;
  m->get_output_var_names = bmi_output_names;
  m->get_var_grid = bmi_var_grid;
  m->get_var_type = bmi_var_type;
  m->get_var_units = bmi_var_units;
  m->get_var_itemsize = bmi_var_itemsize;
  m->get_var_nbytes = bmi_var_nbytes;
  m->get_var_location = bmi_var_location;
  m->get_current_time = bmi_current_time;
  m->get_start_time = bmi_start_time;
  m->get_end_time = bmi_end_time;
  m->get_time_units = bmi_time_units;
  m->get_time_step = bmi_time_step;
  m->get_value = bmi_get_value;
  m->get_value_ptr = bmi_get_value_ptr;
  m->get_value_at_indices = bmi_get_value_at_indices;
  m->set_value = bmi_set_value;
  m->set_value_at_indices = bmi_set_value_at_indices;
  m->get_grid_rank = bmi_grid_rank;
  m->get_grid_size = bmi_grid_size;
  m->get_grid_type = bmi_grid_type;
  m->get_grid_shape = bmi_not_for_points_int;
  m->get_grid_spacing = bmi_not_for_points_double;
  m->get_grid_origin = bmi_not_for_points_double;
  m->get_grid_x = bmi_grid_x;
  m->get_grid_y = bmi_grid_y;
  m->get_grid_z = bmi_not_for_points_double;
  m->get_grid_node_count = bmi_grid_node_count;
  m->get_grid_edge_count = bmi_grid_zero_count;
  m->get_grid_face_count = bmi_grid_zero_count;
  m->get_grid_edge_nodes = bmi_not_for_points_int;
  m->get_grid_face_edges = bmi_not_for_points_int;
  m->get_grid_face_nodes = bmi_not_for_points_int;
  m->get_grid_nodes_per_face = bmi_not_for_points_int;
  return m;
}

const char* climvae_bmi_last_error(const Bmi*) { return bmi_error.c_str(); }

}  // extern "C"
