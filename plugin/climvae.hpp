// C++ RAII wrappers over climvae.h: a Model that closes itself, requests as the C struct, and
// a climvae::plugin::Error (status + message) thrown in the host's own code for a failed call.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "climvae.h"

namespace climvae::plugin {

class Error : public std::runtime_error {
 public:
  Error(climvae_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  climvae_status status() const { return status_; }

 private:
  climvae_status status_;
};

inline climvae_request default_request() {
  climvae_request r;
  climvae_request_defaults(&r);
  return r;
}

class Model {
 public:
  explicit Model(const std::string& path) { check(climvae_open(path.c_str(), CLIMVAE_ABI_VERSION, &h_), nullptr); }
  ~Model() {
    if (h_) climvae_close(h_);
  }
  Model(Model&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  Model& operator=(Model&& other) noexcept {
    std::swap(h_, other.h_);
    return *this;
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  climvae_model* get() const { return h_; }

  climvae_model_info info() const {
    climvae_model_info i;
    check(climvae_model_info_get(h_, &i));
    return i;
  }
  climvae_cell cell(int index) const {
    climvae_cell c;
    check(climvae_cell_get(h_, index, &c));
    return c;
  }
  int find_cell(double latitude, double longitude, double max_distance_km = 50) const {
    int32_t c = 0;
    check(climvae_find_cell(h_, latitude, longitude, max_distance_km, &c, nullptr));
    return c;
  }
  // The most working memory one request may take, MiB (climvae_set_memory_limit).
  void set_memory_limit(int64_t mib) const { check(climvae_set_memory_limit(h_, mib)); }
  // The warming table of CLIMVAE_SCENARIO_TABLE requests (K at each year; see climvae.h).
  void set_warming_table(const std::vector<int32_t>& years, const std::vector<double>& offsets_k,
                         double pattern_rate_k_per_year = 0) const {
    if (years.size() != offsets_k.size()) throw Error(CLIMVAE_ERR_BAD_ARGUMENT, "years and offsets_k differ in length");
    check(climvae_set_warming_table(h_, years.data(), offsets_k.data(), static_cast<int64_t>(years.size()),
                                    pattern_rate_k_per_year));
  }
  void load_warming_table(const std::string& path, double pattern_rate_k_per_year = 0) const {
    check(climvae_load_warming_table(h_, path.c_str(), pattern_rate_k_per_year));
  }
  // out[member * hours + t]
  std::vector<float> generate(const climvae_request& r) const {
    float none = 0;
    std::vector<float> out(values(climvae_generate(h_, &r, &none, 0), r));
    check(climvae_generate(h_, &r, out.data(), static_cast<int64_t>(out.size())));
    return out;
  }
  std::vector<float> condition(const climvae_request& r, const std::vector<float>& known) const {
    float none = 0;  // an empty vector's data() is NULL: the library names the bad length instead
    const float* given = known.empty() ? &none : known.data();
    const int64_t known_hours = static_cast<int64_t>(known.size());
    std::vector<float> out(values(climvae_condition(h_, &r, given, known_hours, &none, 0), r));
    check(climvae_condition(h_, &r, given, known_hours, out.data(), static_cast<int64_t>(out.size())));
    return out;
  }

 private:
  // The library checks hours, members and the handle's memory limit before the buffer: a call
  // with capacity 0 (`probe`) refuses what the request would be refused for, so the output is
  // allocated only for a request within the limits (never an overflowed product, a bad_alloc
  // or gigabytes for a request the library then turns down).
  size_t values(climvae_status probe, const climvae_request& r) const {
    if (probe != CLIMVAE_ERR_BUFFER_TOO_SMALL) check(probe);
    return static_cast<size_t>(r.hours * r.members);
  }
  void check(climvae_status s) const { check(s, h_); }
  static void check(climvae_status s, const climvae_model* h) {
    if (s != CLIMVAE_OK) throw Error(s, climvae_last_error(h));
  }
  climvae_model* h_ = nullptr;
};

inline int64_t parse_time(const std::string& iso) {
  int64_t hour = 0;
  if (climvae_status s = climvae_parse_time(iso.c_str(), &hour); s != CLIMVAE_OK) throw Error(s, climvae_last_error(nullptr));
  return hour;
}

}  // namespace climvae::plugin
