// Writes the plugin tests' model: a short training on Paris 2016-2021 (enough for a diurnal
// and seasonal cycle), cells Paris and Berlin; and 14 observed July 2021 Paris hours files for
// the conditioning test (one value per line, degC, first hour 2021-07-01T00 UTC).
// Usage: make_test_model OUTPUT.model OBSERVED.txt DATA_DIR EPOCHS
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/calendar.hpp"
#include "common/error.hpp"
#include "data/csv_series.hpp"
#include "data/preprocess.hpp"
#include "model/model_file.hpp"
#include "train/trainer.hpp"

using namespace climvae;

namespace {

Store cell_store(const std::string& path) {
  const HourlySeries s = read_csv_series(path);
  const LatLon where = s.location ? *s.location : location_from_openmeteo_filename(path).value();
  PreprocessOptions o;
  o.from_hour = parse_from_bound("2016-01-01");
  o.until_hour = parse_until_bound("2021-12-31");
  return make_cell_store(s, where, o);
}

ModelCell cell_of(const CellSeries& c) {
  return {c.latitude, c.longitude, c.utc_offset_hours, c.trend_k_per_year, c.offset_k, c.scale_k};
}

int run(int argc, char** argv) {
  require(argc == 5, "usage: make_test_model OUTPUT.model OBSERVED.txt DATA_DIR EPOCHS");
  const std::string dir = std::string(argv[3]) + "/openmeteo/";
  const Store paris = cell_store(dir + "open-meteo-48.82N2.29E46m_Paris.csv");
  const Store berlin = cell_store(dir + "open-meteo-52.55N13.41E38m_Berlin.csv");
  Vae vae;
  vae.initialize(7);
  TrainConfig tc;
  tc.epochs = std::atoi(argv[4]);
  tc.seed = 7;
  const TrainResult result = train(vae, paris, tc, [](const EpochReport&) {});
  ModelFile m;
  m.config = vae.config();
  m.parameters = parameters_of(vae);
  m.reference_year = paris.reference_year;
  m.cells = {cell_of(paris.cells[0]), cell_of(berlin.cells[0])};
  m.provenance["store"] = "paris-2016-2021";
  m.provenance["epochs"] = std::to_string(result.epochs_run);
  save_model(m, argv[1], true);

  std::ofstream obs(argv[2]);
  const int64_t first = parse_iso_hour("2021-07-01T00") - paris.start_hour;
  for (int64_t t = 0; t < 14 * 24; ++t) obs << paris.cells[0].tas_k[size_t(first + t)] - 273.15 << "\n";
  require(obs.good(), std::string("cannot write ") + argv[2]);
  std::printf("make_test_model: %d epochs, best validation %.4f, wrote %s and %s\n", result.epochs_run,
              result.best_validation, argv[1], argv[2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);
    try {
      status = run(argc, argv);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "make_test_model: %s\n", e.what());
      status = 1;
    }
  }
  MPI_Finalize();
  return status;
}
