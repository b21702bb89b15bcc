// climvae generate: sample an ensemble of synthetic hourly traces into CF NetCDF.
#include <iostream>

#include "cli.hpp"
#include "common/calendar.hpp"
#include "common/error.hpp"
#include "generate/ensemble_file.hpp"
#include "generate/generator.hpp"
#include "model/model_file.hpp"

namespace climvae::cli {
namespace {

int run(int argc, char** argv) {
  po::options_description o("Options");
  std::string model_path, start, output;
  TraceRequest req;
  int target_year = 0;
  o.add_options()
      ("model", po::value(&model_path)->required(), "model file written by 'climvae train'")
      ("start", po::value(&start)->required(), "first hour, UTC: YYYY-MM-DD or YYYY-MM-DDTHH:00")
      ("hours", po::value(&req.hours)->required(), "number of hourly values per member (any length)")
      ("members", po::value(&req.members)->default_value(1), "number of ensemble members")
      ("seed", po::value(&req.seed)->default_value(0), "random seed; a member depends only on (seed, member, cell, start)")
      ("output", po::value<std::string>(&output)->required(), "CF NetCDF file to write")
      ("target-year", po::value(&target_year)->default_value(0),
       "re-apply the learned trend to this year's climate (default: the model's reference year)")
      ("cell", po::value(&req.cell)->default_value(0), "cell of the model to sample")
      ("add-noise", "add the learned hourly observation noise to the decoded mean")
      ("overwrite", "replace an existing output file");
  po::variables_map vm;
  if (!parse("generate", "Sample synthetic hourly 2 m temperature from a trained model into CF NetCDF.", o, argc, argv, vm))
    return 0;
  req.add_noise = vm.count("add-noise") > 0;
  if (target_year != 0) {
    req.scenario.path = Scenario::Path::learned_trend;
    req.scenario.slice_year = target_year;
  }
  req.start_hour = parse_iso_hour(start);
  require(req.hours >= 1, "--hours must be at least 1");
  require(req.members >= 1 && req.members <= 100000, "--members must be between 1 and 100000");

  const ModelFile model = load_model(model_path);
  Vae vae(model.config);
  load_parameters(vae, model.parameters);
  Ensemble ens;
  ens.tas_k = generate_traces(vae, model, req);
  EnsembleMeta& meta = ens.meta;
  const ModelCell& cell = model.cells[req.cell];
  meta.latitude = cell.latitude;
  meta.longitude = cell.longitude;
  meta.start_hour = req.start_hour;
  meta.num_hours = req.hours;
  meta.members = req.members;
  meta.seed = req.seed;
  meta.reference_year = model.reference_year;
  meta.target_year = target_year == 0 ? model.reference_year : target_year;
  meta.model_path = model_path;
  meta.scenario = req.scenario.describe(model.reference_year);
  meta.history = command_line(argc, argv);
  write_ensemble(output, ens, vm.count("overwrite") > 0);
  if (is_root())
    std::cout << "wrote " << req.members << " member(s) x " << req.hours << " hours from " << format_iso_hour(req.start_hour)
              << " UTC (" << meta.scenario << ") to " << output << std::endl;
  return 0;
}

const Registration registration{"generate", run, "sample synthetic traces from a model into CF NetCDF"};

}  // namespace
}  // namespace climvae::cli
