// The model file: a versioned, self-describing, checksummed file holding a trained VAE, in the
// framed layout it shares with the checkpoint (common/framed_file.hpp). Its header lines: the
// network configuration and prior, the spatial factor count, the reference year, provenance
// (`info`), each cell's preprocessing constants (`cell`), the calibration of calibrated cells
// (`calibration`, `quantiles`), every parameter's name, offset and shape (`param`); then two
// float32 blocks: the parameters and the spatial loadings. Loading checks the version, the
// layout against the network, the size, the CRC-32 and the values (validate_model).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/calibration.hpp"
#include "model/vae.hpp"

namespace climvae {

// Version 2 added the cell embedding (`embedding E`) and each cell's season shift; version 1
// files load as seed models (no embedding, no shift). Version 3 added `condition_decoder 0|1`
// (the embedding also feeds the decoder); version 2 files load with it off (prior only).
// Version 4 added `prior_bias`; version 5 `prior seasonal|temporal` (older files: seasonal),
// `spatial_factors K` with the loadings as a float block after the parameters, and the optional
// `calibration`/`quantiles` lines (files without them generate the decoded mean alone).
// Version 6 added the optional `weather` line of a calibration (older files: the decoded anomaly
// unscaled, one AR(1) noise). Version 7 added the optional `diurnal` line (older files: no
// diurnal mode), version 8 `spatial_mixing whitened|diagonal` (older files: diagonal), version 9
// the optional `skew` line (older files: no skew).
constexpr int kModelFormatVersion = 9;

// What generation needs to turn standardised, detrended output back into temperatures.
struct ModelCell {
  double latitude = 0;
  double longitude = 0;
  int utc_offset_hours = 0;     // the series was modelled in local solar time = UTC + offset
  double trend_k_per_year = 0;  // removed relative to the reference year
  double offset_k = 0;          // temperature = offset + scale * model output (+ trend)
  double scale_k = 1;
  double season_shift_days = 0;  // added to the day of year of the seasonal features (season_phase_days)
  Calibration calibration;       // what the decoded mean misses (model/calibration.hpp); may be empty
};

struct ModelFile {
  VaeConfig config;               // with an embedding, config.cells == cells.size()
  std::vector<float> parameters;  // in the order of Vae(config).params().layout
  int reference_year = 0;
  std::vector<ModelCell> cells;
  std::map<std::string, std::string> provenance;  // store, epochs, seed, losses, version, date...
  // Weather shared by the cells (train/spatial_factors.hpp): each cell's latent innovations load
  // on K factors common to all cells; loadings (cells, latent, K). K = 0: independent cells.
  int spatial_factors = 0;
  std::vector<float> loadings;
  // How a cell's own normals fill the rest of its innovations' variance (version 8 on; older files:
  // diagonal). Diagonal: feature i adds sqrt(1 - |L_i|^2) of its own normal, which leaves the cell's
  // features correlated by the off-diagonal of L L^T (Berlin in the four-site model: up to 0.12),
  // weather a cell alone never has. Whitened: the own normals enter through (I - L L^T)^1/2, so a
  // cell's innovations keep the identity covariance of the independent cell's (along a direction
  // where L L^T exceeds 1, none is added).
  bool whitened_mixing = false;
  // Derived from the loadings (not stored): the latent feature with the most shared variance,
  // whose loadings also correlate the cells' calibration noise (set_loadings, load_model).
  int noise_feature = 0;
  void set_loadings(int factors, std::vector<float> values);
  const float* cell_loadings(int cell) const {
    return spatial_factors > 0 ? loadings.data() + size_t(cell) * config.latent * spatial_factors : nullptr;
  }
};

// Writes atomically (PATH.tmp-<host>-<pid>, then commit_file: an existing PATH is replaced only with
// `replace`). Throws Error naming the path.
void save_model(const ModelFile& model, const std::string& path, bool replace);
// Throws Error naming the path and what is wrong (not a model, newer version, truncated,
// checksum mismatch, layout mismatch).
ModelFile load_model(const std::string& path);

// Refuses a model whose values are meaningless even with a valid checksum, naming the field:
// weights not finite or beyond +-1e4, a cell's latitude outside +-90 or longitude outside +-360,
// UTC offset outside +-14 h, trend beyond +-10 K/year, offset outside 170..340 K, scale outside
// 0.01..50 K, season shift beyond +-366 days, reference year outside 1..9999. load_model calls it.
void validate_model(const ModelFile& model, const std::string& where);

// Copies a trained Vae's parameters (device) into a ModelFile, and back.
std::vector<float> parameters_of(const Vae& vae);
void load_parameters(Vae& vae, const std::vector<float>& parameters);

}  // namespace climvae
