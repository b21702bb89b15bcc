#include "fit_weather.hpp"

#include <algorithm>
#include <iostream>
#include <stdexcept>

#include "cli.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "train/calibration_fit.hpp"
#include "train/spatial_factors.hpp"

namespace climvae::cli {
namespace {

// Weather that covers the region: loadings of every cell on shared factors (collective). Fitted
// after the calibration: their last rounds generate calibrated traces.
void fit_spatial_factors(ModelFile& model, Vae& vae, const Store& store, int requested) {
  const int ncells = static_cast<int>(model.cells.size()), latent = model.config.latent;
  const bool choose = requested == kAutoFactors;
  const int factors = choose ? std::min(16, ncells * latent) : requested;
  if (ncells <= 1 || factors <= 0) return;
  int blocks = 0;
  const bool fitted = fit_spatial_loadings(vae, model, store, factors, MPI_COMM_WORLD, blocks, choose);
  if (!is_root()) return;
  if (fitted)
    std::cout << "fitted " << model.spatial_factors << " spatial factors shared by the " << ncells << " cells"
              << (choose ? " (the count the data support, of at most " + std::to_string(factors) + ")" : "")
              << std::endl;
  else
    std::cout << "note: the store's " << blocks << " four-day blocks are too few to fit " << factors
              << " spatial factors; the cells' weather stays independent (--spatial-factors fewer, or more data)"
              << std::endl;
}

// What the decoded mean misses, per cell on its own rank, then gathered.
void calibrate_cells(ModelFile& model, Vae& vae, const Store& store) {
  std::vector<float> mine;
  run_on_all_ranks(MPI_COMM_WORLD, [&] {
    for (const Calibration& k : fit_calibration(vae, model, store)) {
      const std::vector<float> p = packed(k);
      mine.insert(mine.end(), p.begin(), p.end());
    }
  });
  const std::vector<float> all = gather_rows(mine, MPI_COMM_WORLD);
  for (size_t c = 0; c < model.cells.size(); ++c) model.cells[c].calibration = unpacked(all.data() + c * kPackedCalibration);
  if (is_root()) std::cout << "calibrated the weather's persistence, the monthly means and variance, and the tails" << std::endl;
}

}  // namespace

void fit_weather(ModelFile& model, Vae& vae, const Store& store, int factors, bool calibrate) {
  for (ModelCell& c : model.cells) c.calibration = Calibration();
  model.set_loadings(0, {});
  if (calibrate) calibrate_cells(model, vae, store);
  // Not calibrated again after the factors: with the whitened mixing each cell's innovations and
  // calibration noise keep exactly their independent distribution, and the factors' last rounds
  // matched the cross-correlations with this calibration (a refit moved the split between decoded
  // weather and noise, and with it the four sites' Paris-Berlin from 0.59 to 0.65).
  fit_spatial_factors(model, vae, store, factors);
}

int spatial_factors_option(const std::string& value) {
  if (value == "auto") return kAutoFactors;
  size_t used = 0;
  int count = -1;
  try {
    count = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used > 0 && used == value.size() && count >= 0 && count <= 32,
          "--spatial-factors must be 'auto' or a count 0..32, got '" + value + "'");
  return count;
}

}  // namespace climvae::cli
