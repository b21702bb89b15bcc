#include "model/model_file.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "common/error.hpp"
#include "common/file_io.hpp"

namespace climvae {

namespace {

constexpr const char* kMagic = "climvae-model";
constexpr const char* kEndOfHeader = "end-header";

// Values with full precision so that a save/load round trip is exact.
std::string exact(double v) {
  std::ostringstream s;
  s << std::setprecision(17) << v;
  return s.str();
}

std::string header_of(const ModelFile& m, const ParamLayout& layout) {
  std::ostringstream h;
  h << kMagic << " " << kModelFormatVersion << "\n";
  h << "filters " << m.config.filters << "\n";
  h << "latent " << m.config.latent << "\n";
  h << "fourier_features " << m.config.fourier_features << "\n";
  h << "embedding " << m.config.embedding << "\n";
  h << "condition_decoder " << (m.config.condition_decoder ? 1 : 0) << "\n";
  h << "prior_bias " << (m.config.prior_bias ? 1 : 0) << "\n";
  h << "prior " << prior_name(m.config.prior) << "\n";
  h << "spatial_factors " << m.spatial_factors << "\n";
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
  const std::string header = header_of(model, layout);
  const size_t bytes = model.parameters.size() * sizeof(float);
  const size_t loading_bytes = model.loadings.size() * sizeof(float);
  uint32_t crc = crc32(header.data(), header.size());
  crc = crc32(model.parameters.data(), bytes, crc);
  crc = crc32(model.loadings.data(), loading_bytes, crc);

  char crc_text[16];
  std::snprintf(crc_text, sizeof crc_text, "%08x", crc);
  write_file_atomically(path, "model file", replace, [&](std::ostream& out) {
    out << header << "crc32 " << crc_text << "\n" << kEndOfHeader << "\n";
    out.write(reinterpret_cast<const char*>(model.parameters.data()), static_cast<std::streamsize>(bytes));
    out.write(reinterpret_cast<const char*>(model.loadings.data()), static_cast<std::streamsize>(loading_bytes));
  });
}

ModelFile load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot open model file '" + path + "'");
  const std::string where = "model file '" + path + "'";
  std::string header, line;
  ModelFile m;
  std::string crc_text;
  bool ended = false;
  size_t expected_params = 0, expected_cells = 0;
  std::vector<std::string> param_lines;
  int line_no = 0, version = 0;
  bool has_condition_decoder = false, has_prior_bias = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1) {
      std::istringstream first(line);
      std::string magic;
      first >> magic >> version;
      require(magic == kMagic, where + " is not a climvae model (first line '" + line.substr(0, 40) + "')");
      require(version >= 1 && version <= kModelFormatVersion,
              where + " has format version " + std::to_string(version) + "; this climvae reads up to " +
                  std::to_string(kModelFormatVersion));
    }
    require(!in.eof(), where + " is truncated inside header line " + std::to_string(line_no));
    if (line == kEndOfHeader) {
      ended = true;
      break;
    }
    std::istringstream f(line);
    std::string key;
    f >> key;
    if (key == "crc32") {
      f >> crc_text;
      continue;  // the checksum line itself is not checksummed
    }
    header += line + "\n";
    bool ok = true;
    if (key == kMagic) {
    } else if (key == "filters") {
      ok = static_cast<bool>(f >> m.config.filters);
    } else if (key == "latent") {
      ok = static_cast<bool>(f >> m.config.latent);
    } else if (key == "fourier_features") {
      ok = static_cast<bool>(f >> m.config.fourier_features);
    } else if (key == "embedding") {
      ok = static_cast<bool>(f >> m.config.embedding);
    } else if (key == "condition_decoder") {
      int on = -1;
      ok = static_cast<bool>(f >> on) && (on == 0 || on == 1);
      m.config.condition_decoder = on == 1;
      has_condition_decoder = true;
    } else if (key == "prior_bias") {
      int on = -1;
      ok = static_cast<bool>(f >> on) && (on == 0 || on == 1);
      m.config.prior_bias = on == 1;
      has_prior_bias = true;
    } else if (key == "prior") {
      std::string kind;
      ok = static_cast<bool>(f >> kind) && (kind == "seasonal" || kind == "temporal");
      if (ok) m.config.prior = parse_prior_kind(kind);
    } else if (key == "spatial_factors") {
      ok = static_cast<bool>(f >> m.spatial_factors) && m.spatial_factors >= 0 && m.spatial_factors <= 32;
    } else if (key == "reference_year") {
      ok = static_cast<bool>(f >> m.reference_year);
    } else if (key == "info") {
      std::string name;
      ok = static_cast<bool>(f >> name);
      std::string value;
      std::getline(f >> std::ws, value);
      m.provenance[name] = value;
    } else if (key == "cells") {
      ok = static_cast<bool>(f >> expected_cells);
    } else if (key == "cell") {
      ModelCell c;
      ok = static_cast<bool>(f >> c.latitude >> c.longitude >> c.utc_offset_hours >> c.trend_k_per_year >> c.offset_k >>
                             c.scale_k);
      if (version >= 2) ok = ok && static_cast<bool>(f >> c.season_shift_days);
      m.cells.push_back(c);
    } else if (key == "calibration") {
      size_t c = 0;
      Calibration k;
      k.mean_correction.resize(12);
      k.noise_sd.resize(12);
      ok = static_cast<bool>(f >> c >> k.noise_phi) && c < m.cells.size();
      for (float& v : k.mean_correction) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 10;
      for (float& v : k.noise_sd) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && v >= 0 && v < 10;
      ok = ok && k.noise_phi >= 0 && k.noise_phi < 1;
      if (ok) m.cells[c].calibration = k;
    } else if (key == "quantiles") {
      size_t c = 0;
      std::vector<float> g(12 * kQuantiles), o(12 * kQuantiles);
      ok = static_cast<bool>(f >> c) && c < m.cells.size() && !m.cells[c].calibration.empty();
      for (float& v : g) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 20;
      for (float& v : o) ok = ok && static_cast<bool>(f >> v) && std::isfinite(v) && std::fabs(v) < 20;
      for (int mo = 0; ok && mo < 12; ++mo)  // each month's knots ascending, or the map is not monotone
        for (int q = 1; q < kQuantiles; ++q)
          ok = g[mo * kQuantiles + q] >= g[mo * kQuantiles + q - 1] && o[mo * kQuantiles + q] >= o[mo * kQuantiles + q - 1];
      if (ok) m.cells[c].calibration.quantiles_generated = g, m.cells[c].calibration.quantiles_observed = o;
    } else if (key == "param") {
      param_lines.push_back(line);
    } else if (key == "parameters") {
      ok = static_cast<bool>(f >> expected_params);
    } else {
      ok = false;
    }
    require(ok, where + ": unreadable header line " + std::to_string(line_no) + ": '" + line.substr(0, 80) + "'");
    require(line_no < 100000, where + ": header never ends (corrupt file)");
  }
  require(ended, where + " is truncated: the header has no '" + kEndOfHeader + "' line");
  require(!crc_text.empty(), where + " has no checksum line");
  require(expected_cells == m.cells.size() && !m.cells.empty(),
          where + ": header announces " + std::to_string(expected_cells) + " cells but lists " +
              std::to_string(m.cells.size()));

  // Before version 3 the embedding conditioned the prior only.
  if (!has_condition_decoder) m.config.condition_decoder = false;
  // Before version 4 the prior had no per-cell offset.
  if (!has_prior_bias) m.config.prior_bias = false;
  m.config.cells = static_cast<int>(m.cells.size());
  Vae shape_only(m.config);  // throws on a nonsense configuration
  const ParamLayout& layout = shape_only.params().layout;
  require(expected_params == layout.total(),
          where + " holds " + std::to_string(expected_params) + " parameters but its configuration needs " +
              std::to_string(layout.total()));
  require(param_lines.size() == layout.slices().size(), where + ": parameter list does not match the network");
  for (size_t i = 0; i < param_lines.size(); ++i) {
    std::istringstream f(param_lines[i]);
    std::string key, name;
    size_t offset = 0;
    f >> key >> name >> offset;
    std::vector<int> shape;
    int d = 0;
    while (f >> d) shape.push_back(d);
    const ParamSlice& s = layout.slices()[i];
    require(name == s.name && offset == s.offset && shape == s.shape,
            where + ": parameter '" + name + "' does not match the network's '" + s.name + "'");
  }

  m.parameters.resize(expected_params);
  const auto bytes = static_cast<std::streamsize>(expected_params * sizeof(float));
  in.read(reinterpret_cast<char*>(m.parameters.data()), bytes);
  require(in.gcount() == bytes, where + " is truncated: " + std::to_string(in.gcount()) + " of " +
                                    std::to_string(bytes) + " parameter bytes present");
  m.loadings.resize(m.cells.size() * m.config.latent * size_t(m.spatial_factors));
  const auto loading_bytes = static_cast<std::streamsize>(m.loadings.size() * sizeof(float));
  in.read(reinterpret_cast<char*>(m.loadings.data()), loading_bytes);
  require(in.gcount() == loading_bytes, where + " is truncated: " + std::to_string(in.gcount()) + " of " +
                                            std::to_string(loading_bytes) + " spatial loading bytes present");
  char extra = 0;
  require(!in.read(&extra, 1), where + " has trailing bytes after the parameters (corrupt file)");
  uint32_t crc = crc32(header.data(), header.size());
  crc = crc32(m.parameters.data(), static_cast<size_t>(bytes), crc);
  crc = crc32(m.loadings.data(), static_cast<size_t>(loading_bytes), crc);
  char crc_now[16];
  std::snprintf(crc_now, sizeof crc_now, "%08x", crc);
  require(crc_text == crc_now, where + " is corrupt: checksum " + crc_now + " does not match the recorded " + crc_text);
  m.set_loadings(m.spatial_factors, m.loadings);
  validate_model(m, where);
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
