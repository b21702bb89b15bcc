// climvae calibrate: fit a trained model's calibration and spatial factors again on a store of its
// cells, as `climvae train` does after training, without training the network again: after a
// change of climvae's calibration, or to refit on the training store with other --spatial-factors.
#include <cmath>
#include <iostream>

#include "cli.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"
#include "data/store.hpp"
#include "fit_weather.hpp"
#include "model/model_file.hpp"
#include "train/windows.hpp"

namespace climvae::cli {
namespace {

// The store must describe the model's cells as training saw them: same places, local time, trend
// and reference year (the calibration is fitted on the detrended series in the model's units).
void check_store_matches(const ModelFile& model, const std::vector<CellSeries>& cells, const Store& store,
                         const std::string& store_path) {
  require(cells.size() == model.cells.size(), "store '" + store_path + "' has " + std::to_string(cells.size()) +
                                                  " cells, the model " + std::to_string(model.cells.size()));
  require(store.reference_year == model.reference_year,
          "store '" + store_path + "' has reference year " + std::to_string(store.reference_year) + ", the model " +
              std::to_string(model.reference_year));
  for (size_t c = 0; c < cells.size(); ++c) {
    const ModelCell& m = model.cells[c];
    const CellSeries& s = cells[c];
    require(std::fabs(s.latitude - m.latitude) < 1e-6 && std::fabs(s.longitude - m.longitude) < 1e-6 &&
                s.utc_offset_hours == m.utc_offset_hours && std::fabs(s.trend_k_per_year - m.trend_k_per_year) < 1e-9,
            "cell " + std::to_string(c) + " of store '" + store_path +
                "' is not the model's (place, local time or trend differ): calibrate on the store the model was "
                "trained on, or one prepared the same way");
  }
}

int run(int argc, char** argv) {
  std::string model_path, store_path, output, calibration_choice;
  std::string factors;
  po::options_description o("Options");
  o.add_options()
      ("model", po::value(&model_path)->required(), "trained model file")
      ("store", po::value(&store_path)->required(), "cell store of the model's cells (the one it was trained on)")
      ("output", po::value(&output)->required(), "model file to write (may not be --model)")
      ("calibrate", po::value(&calibration_choice)->default_value("on"), "on: fit the calibration; off: remove it")
      ("spatial-factors", po::value(&factors),
       "factors shared by the cells' weather (default: as many as the model has; auto: as many as the data "
       "support, up to min(16, cells x latent); 0: independent cells)")
      ("overwrite", po::bool_switch(), "replace an existing output file");
  po::variables_map vm;
  if (!parse("calibrate", "Fit a trained model's calibration and spatial factors again on a store.", o, argc, argv, vm))
    return 0;
  require(calibration_choice == "on" || calibration_choice == "off",
          "--calibrate must be 'on' or 'off', got '" + calibration_choice + "'");
  require(output != model_path, "--output must not be --model ('" + output + "'): write a new file");
  require_distinct({{"--model", model_path}, {"--store", store_path}, {"--output", output}});
  require_output(output, "--output", vm["overwrite"].as<bool>());
  if (vm.count("spatial-factors")) spatial_factors_option(factors);  // checked before anything is read

  ModelFile model = load_model(model_path);
  const Store store = read_store(store_path, MPI_COMM_WORLD, StoreCells::my_share);
  check_store_matches(model, all_cell_constants(store), store, store_path);
  // A cell with too little data (all missing: every correction, noise sd and quantile came out 0)
  // was "calibrated" on nothing and written as if fitted: refused as train refuses it. Every rank
  // learns of a failure on one, so none waits in the fit's collectives.
  run_on_all_ranks(MPI_COMM_WORLD, [&] {
    try {
      make_windows(store, WindowConfig{});
    } catch (const Error& e) {
      throw Error("store '" + store_path + "': " + e.what() + ": too little data to calibrate on");
    }
  });
  Vae vae(model.config);
  load_parameters(vae, model.parameters);
  const int factor_count = vm.count("spatial-factors") ? spatial_factors_option(factors) : model.spatial_factors;
  fit_weather(model, vae, store, factor_count, calibration_choice == "on");
  model.provenance["calibrated_on"] = store_path;
  if (is_root()) {
    save_model(model, output, vm["overwrite"].as<bool>());
    std::cout << "wrote " << output << std::endl;
  }
  return 0;
}

const Registration registration{"calibrate", run, "fit a trained model's calibration and spatial factors again"};

}  // namespace
}  // namespace climvae::cli
