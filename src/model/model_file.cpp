#include "model/model_file.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "common/error.hpp"
#include "common/framed_file.hpp"

namespace climvae {

namespace {

const FramedFormat kModelFormat{"climvae-model", "model", "model file", kModelFormatVersion};

// Values with full precision so that a save/load round trip is exact.
std::string exact(double v) {
  std::ostringstream s;
  s << std::setprecision(17) << v;
  return s.str();
}

std::string header_of(const ModelFile& m, const ParamLayout& layout) {
  std::ostringstream h;
  h << "filters " << m.config.filters << "\n";
  h << "latent " << m.config.latent << "\n";
  h << "fourier_features " << m.config.fourier_features << "\n";
  h << "embedding " << m.config.embedding << "\n";
  h << "condition_decoder " << (m.config.condition_decoder ? 1 : 0) << "\n";
  h << "prior_bias " << (m.config.prior_bias ? 1 : 0) << "\n";
  h << "prior " << prior_name(m.config.prior) << "\n";
  h << "spatial_factors " << m.spatial_factors << "\n";
  h << "spatial_mixing " << (m.whitened_mixing ? "whitened" : "diagonal") << "\n";
  h << "reference_year " << m.reference_year << "\n";
  for (const auto& p : m.provenance) {
    require(p.first.find_first_of(" \n") == std::string::npos && p.second.find('\n') == std::string::npos,
            "model provenance entries must be single-line, key without spaces: '" + p.first + "'");
    h << "info " << p.first << " " << p.second << "\n";
  }
  h << "cells " << m.cells.size() << "\n";
  for (const auto& c : m.cells)
    h << "cell " << exact(c.latitude) << " " << exact(c.longitude) << " " << c.utc_offset_hours << " "
      << exact(c.trend_k_per_year) << " " << exact(c.offset_k) << " " << exact(c.scale_k) << " "
      << exact(c.season_shift_days) << "\n";
  for (size_t c = 0; c < m.cells.size(); ++c) {
    const Calibration& k = m.cells[c].calibration;
    if (k.empty()) continue;
    h << "calibration " << c << " " << exact(k.noise_phi);
    for (float v : k.mean_correction) h << " " << exact(v);
    for (float v : k.noise_sd) h << " " << exact(v);
    h << "\n";
    if (k.noise_stages != 1 || k.noise_short_share != 0 || !k.generated_climatology.empty()) {
      h << "weather " << c << " " << exact(k.anomaly_scale) << " " << k.noise_stages << " "
        << exact(k.noise_short_share) << " " << exact(k.noise_short_phi) << " " << k.generated_climatology.size();
      for (float v : k.generated_climatology) h << " " << exact(v);
      h << "\n";
    }
    if (k.noise_diurnal_share > 0) {
      h << "diurnal " << c << " " << exact(k.noise_diurnal_share) << " " << exact(k.noise_diurnal_phi);
      for (float v : k.diurnal_shape) h << " " << exact(v);
      h << "\n";
    }
    if (!k.smooth_skew.empty()) {
      h << "skew " << c;
      for (float v : k.smooth_skew) h << " " << exact(v);
      h << "\n";
    }
    if (k.quantiles_generated.empty()) continue;
    h << "quantiles " << c;
    for (float v : k.quantiles_generated) h << " " << exact(v);
    for (float v : k.quantiles_observed) h << " " << exact(v);
    h << "\n";
  }
  for (const auto& s : layout.slices()) {
    h << "param " << s.name << " " << s.offset;
    for (int d : s.shape) h << " " << d;
    h << "\n";
  }
  h << "parameters " << layout.total() << "\n";
  return h.str();
}

// What the header announces beyond the ModelFile's own fields, checked once it is read.
struct Announced {
  size_t cells = 0, parameters = 0;
  std::vector<std::string> param_lines;  // "param NAME OFFSET SHAPE...", one per slice
  bool condition_decoder = false, prior_bias = false;  // their lines are present (version 3, 4 on)
};

// A 0|1 flag.
bool read_flag(std::istream& f, bool& flag) {
  int on = -1;
  const bool ok = static_cast<bool>(f >> on) && (on == 0 || on == 1);
  flag = on == 1;
  return ok;
}

// The network's configuration, the provenance and the counts; false: unknown key or bad value.
bool read_setting(const std::string& key, std::istream& f, const std::string& line, ModelFile& m, Announced& a) {
  if (key == "filters") return static_cast<bool>(f >> m.config.filters);
  if (key == "latent") return static_cast<bool>(f >> m.config.latent);
  if (key == "fourier_features") return static_cast<bool>(f >> m.config.fourier_features);
  if (key == "embedding") return static_cast<bool>(f >> m.config.embedding);
  if (key == "condition_decoder") {
    a.condition_decoder = true;
    return read_flag(f, m.config.condition_decoder);
  }
  if (key == "prior_bias") {
    a.prior_bias = true;
    return read_flag(f, m.config.prior_bias);
  }
  if (key == "prior") {
    std::string kind;
    if (!(f >> kind) || (kind != "seasonal" && kind != "temporal")) return false;
    m.config.prior = parse_prior_kind(kind);
    return true;
  }
  if (key == "spatial_mixing") {
    std::string mixing;
    f >> mixing;
    m.whitened_mixing = mixing == "whitened";
    return mixing == "whitened" || mixing == "diagonal";
  }
  if (key == "spatial_factors")
    return static_cast<bool>(f >> m.spatial_factors) && m.spatial_factors >= 0 && m.spatial_factors <= 32;
  if (key == "reference_year") return static_cast<bool>(f >> m.reference_year);
  if (key == "info") {
    std::string name, value;
    const bool ok = static_cast<bool>(f >> name);
    std::getline(f >> std::ws, value);
    m.provenance[name] = value;
    return ok;
  }
  if (key == "cells") return static_cast<bool>(f >> a.cells);
  if (key == "param") {
    a.param_lines.push_back(line);  // checked against the network once the configuration is complete
    return true;
  }
  if (key == "parameters") return static_cast<bool>(f >> a.parameters);
  return false;
}

bool read_cell(std::istream& f, int version, ModelFile& m) {
  ModelCell c;
  bool ok = static_cast<bool>(f >> c.latitude >> c.longitude >> c.utc_offset_hours >> c.trend_k_per_year >>
                              c.offset_k >> c.scale_k);
  if (version >= 2) ok = ok && static_cast<bool>(f >> c.season_shift_days);  // version 1: no shift
  m.cells.push_back(c);
  return ok;
}

bool read_calibration(std::istream& f, ModelFile& m) {
  size_t c = 0;
  Calibration k;
  k.mean_correction.resize(12);
  k.noise_sd.resize(12);
  bool ok = static_cast<bool>(f >> c >> k.noise_phi) && c < m.cells.size();
  for (float& v : k.mean_correction) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 10;
  for (float& v : k.noise_sd) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && v >= 0 && v < 10;
  ok = ok && k.noise_phi >= 0 && k.noise_phi < 1;
  if (ok) m.cells[c].calibration = k;
  return ok;
}

// `weather c a stages short_share short_phi n climatology...` (version 6): the weather partition.
bool read_weather(std::istream& f, ModelFile& m) {
  size_t c = 0, n = 0;
  if (!(f >> c) || c >= m.cells.size() || m.cells[c].calibration.empty()) return false;
  Calibration k = m.cells[c].calibration;
  bool ok = static_cast<bool>(f >> k.anomaly_scale >> k.noise_stages >> k.noise_short_share >> k.noise_short_phi >> n) &&
            (n == 0 || n == 12 * 24) && k.anomaly_scale > 0 && k.anomaly_scale <= 1 &&
            (k.noise_stages == 1 || k.noise_stages == 2) && k.noise_short_share >= 0 && k.noise_short_share <= 1 &&
            k.noise_short_phi >= 0 && k.noise_short_phi < 1;
  k.generated_climatology.resize(ok ? n : 0);
  for (float& v : k.generated_climatology) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 20;
  if (ok) m.cells[c].calibration = k;
  return ok;
}

// `diurnal c share phi shape(24)` (version 7): the diurnal mode of the noise.
bool read_diurnal(std::istream& f, ModelFile& m) {
  size_t c = 0;
  if (!(f >> c) || c >= m.cells.size() || m.cells[c].calibration.empty()) return false;
  Calibration& k = m.cells[c].calibration;
  double share = 0, phi = 0;
  std::vector<float> shape(24);
  bool ok = static_cast<bool>(f >> share >> phi) && share > 0 && share + k.noise_short_share <= 1 && phi >= 0 && phi < 1;
  for (float& v : shape) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 5;
  if (ok) k.noise_diurnal_share = share, k.noise_diurnal_phi = phi, k.diurnal_shape = shape;
  return ok;
}

// `skew c g(24)` (version 9): the smooth noise's skew by local hour, each at most 0.5 in size.
bool read_skew(std::istream& f, ModelFile& m) {
  size_t c = 0;
  if (!(f >> c) || c >= m.cells.size() || m.cells[c].calibration.empty()) return false;
  std::vector<float> skew(24);
  bool ok = true;
  for (float& v : skew) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) <= 0.5;
  if (ok) m.cells[c].calibration.smooth_skew = skew;
  return ok;
}

bool read_quantiles(std::istream& f, ModelFile& m) {
  size_t c = 0;
  std::vector<float> g(12 * kQuantiles), o(12 * kQuantiles);
  bool ok = static_cast<bool>(f >> c) && c < m.cells.size() && !m.cells[c].calibration.empty();
  for (float& v : g) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 20;
  for (float& v : o) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 20;
  for (int mo = 0; ok && mo < 12; ++mo)  // each month's knots ascending, or the map is not monotone
    for (int q = 1; q < kQuantiles; ++q)  // ok && ...: a later ascending pair must not hide an earlier descent
      ok = ok && g[mo * kQuantiles + q] >= g[mo * kQuantiles + q - 1] &&
           o[mo * kQuantiles + q] >= o[mo * kQuantiles + q - 1];
  if (ok) m.cells[c].calibration.quantiles_generated = g, m.cells[c].calibration.quantiles_observed = o;
  return ok;
}

// One header line after the magic line; false: unreadable.
bool read_header_line(const std::string& line, int version, ModelFile& m, Announced& a) {
  std::istringstream f(line);
  std::string key;
  f >> key;
  bool ok = false;
  if (key == "cell") ok = read_cell(f, version, m);
  else if (key == "calibration") ok = read_calibration(f, m);
  else if (key == "quantiles") ok = read_quantiles(f, m);
  else if (key == "weather") ok = read_weather(f, m);
  else if (key == "diurnal") ok = read_diurnal(f, m);
  else if (key == "skew") ok = read_skew(f, m);
  else ok = read_setting(key, f, line, m, a);
  // Nothing may follow the values: 'reference_year 1e9' would read as year 1, and a line with
  // more values than its key has is not the line climvae wrote ('param' lines are read later).
  return ok && (key == "param" || (f >> std::ws).eof());
}

// Completes the configuration (older versions' defaults, the cell count) and checks that the
// announced cells and parameters match it.
void check_announced(const std::string& where, ModelFile& m, const Announced& a) {
  require(a.cells == m.cells.size() && !m.cells.empty(),
          where + ": header announces " + std::to_string(a.cells) + " cells but lists " +
              std::to_string(m.cells.size()));
  if (!a.condition_decoder) m.config.condition_decoder = false;  // before version 3: the prior only
  if (!a.prior_bias) m.config.prior_bias = false;                // before version 4: no per-cell offset
  m.config.cells = static_cast<int>(m.cells.size());
  const Vae shape_only(m.config);  // throws on a nonsense configuration
  const ParamLayout& layout = shape_only.params().layout;
  require(a.parameters == layout.total(), where + " holds " + std::to_string(a.parameters) +
                                              " parameters but its configuration needs " +
                                              std::to_string(layout.total()));
  require(a.param_lines.size() == layout.slices().size(), where + ": parameter list does not match the network");
  for (size_t i = 0; i < a.param_lines.size(); ++i) {
    std::istringstream f(a.param_lines[i]);
    std::string key, name;
    size_t offset = 0;
    f >> key >> name >> offset;
    std::vector<int> shape;
    for (int d = 0; f >> d;) shape.push_back(d);
    const ParamSlice& s = layout.slices()[i];
    require(name == s.name && offset == s.offset && shape == s.shape,
            where + ": parameter '" + name + "' does not match the network's '" + s.name + "'");
  }
}

// "field value" for messages, value with full precision (1e308 stays 1e308).
std::string field_text(const std::string& field, double value) { return field + " " + exact(value); }

void require_in(double value, double low, double high, const std::string& where, const std::string& field) {
  require(value >= low && value <= high,  // false for NaN
          where + ": " + field_text(field, value) + " is outside " + exact(low) + ".." + exact(high) +
              " (the file is not a usable model)");
}

}  // namespace

void validate_model(const ModelFile& m, const std::string& where) {
  require_in(m.reference_year, 1, 9999, where, "reference_year");
  for (size_t i = 0; i < m.cells.size(); ++i) {
    const ModelCell& c = m.cells[i];
    const std::string cell = "cell " + std::to_string(i) + " ";
    require_in(c.latitude, -90, 90, where, cell + "latitude");
    require_in(c.longitude, -360, 360, where, cell + "longitude");
    require_in(c.utc_offset_hours, -14, 14, where, cell + "utc_offset_hours");
    require_in(c.trend_k_per_year, -10, 10, where, cell + "trend_k_per_year");  // as write_store
    require_in(c.offset_k, 170, 340, where, cell + "offset_k");
    require_in(c.scale_k, 0.01, 50, where, cell + "scale_k");
    require_in(c.season_shift_days, -366, 366, where, cell + "season_shift_days");
  }
  for (size_t i = 0; i < m.parameters.size(); ++i)
    require_in(m.parameters[i], -1e4, 1e4, where, "weight " + std::to_string(i));
  // Each cell's innovations must keep unit variance: each feature's loadings' squares sum to at most 1.
  for (size_t row = 0; m.spatial_factors > 0 && row < m.loadings.size() / m.spatial_factors; ++row) {
    double sq = 0;
    for (int k = 0; k < m.spatial_factors; ++k) sq += std::pow(m.loadings[row * m.spatial_factors + k], 2);
    require(std::isfinite(sq) && sq <= 1.0 + 1e-5,
            where + ": spatial loadings of cell " + std::to_string(row / m.config.latent) + " are not a valid factor model");
  }
}

void save_model(const ModelFile& model, const std::string& path, bool replace) {
  const Vae shape_only(model.config);
  const ParamLayout& layout = shape_only.params().layout;
  require(model.parameters.size() == layout.total(),
          "model has " + std::to_string(model.parameters.size()) + " parameters, the network needs " +
              std::to_string(layout.total()));
  require(!model.cells.empty(), "model has no cells (preprocessing constants missing)");
  require(model.config.embedding == 0 || model.config.cells == static_cast<int>(model.cells.size()),
          "model has " + std::to_string(model.cells.size()) + " cells but embeddings for " +
              std::to_string(model.config.cells));
  require(model.spatial_factors >= 0 && model.loadings.size() == model.cells.size() * model.config.latent *
                                                                    size_t(model.spatial_factors),
          "model has " + std::to_string(model.loadings.size()) + " spatial loadings, expected cells x latent x " +
              std::to_string(model.spatial_factors));
  write_framed_file(kModelFormat, path, replace, header_of(model, layout),
                    {{model.parameters.data(), model.parameters.size()}, {model.loadings.data(), model.loadings.size()}});
}

ModelFile load_model(const std::string& path) {
  FramedReader file(kModelFormat, path);
  ModelFile m;
  Announced announced;
  for (std::string line; file.next_line(line);) file.check_line(read_header_line(line, file.version(), m, announced), line);
  check_announced(file.where(), m, announced);
  m.parameters = file.read_block(announced.parameters, "parameter");
  m.loadings = file.read_block(m.cells.size() * m.config.latent * size_t(m.spatial_factors), "spatial loading");
  file.finish();
  m.set_loadings(m.spatial_factors, m.loadings);
  validate_model(m, file.where());
  return m;
}

void ModelFile::set_loadings(int factors, std::vector<float> values) {
  spatial_factors = factors;
  loadings = std::move(values);
  noise_feature = 0;
  double best = -1;
  for (int i = 0; factors > 0 && i < config.latent; ++i) {
    double shared = 0;
    for (size_t c = 0; c < loadings.size() / (size_t(config.latent) * factors); ++c)
      for (int k = 0; k < factors; ++k) shared += std::pow(loadings[(c * config.latent + i) * factors + k], 2);
    if (shared > best) best = shared, noise_feature = i;
  }
}

std::vector<float> parameters_of(const Vae& vae) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), vae.params().values);
  return std::vector<float>(host.data(), host.data() + host.extent(0));
}

void load_parameters(Vae& vae, const std::vector<float>& parameters) {
  require(parameters.size() == vae.params().layout.total(), "parameter count does not match the network");
  Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> host(parameters.data(),
                                                                                               parameters.size());
  Kokkos::deep_copy(vae.params().values, host);
}

}  // namespace climvae
