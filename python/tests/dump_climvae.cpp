// What climvae's engine computes for fixed inputs, for the PyTorch round trip
// (python/tests/test_roundtrip.py): for 3 windows of 3 latent steps, cells 0, 1, 2 (modulo the
// model's cells), a latent z and its decode, and a window x with its seasonal features, ε and
// the two loss parts. Text output: per array a line "name dim...", then a line of values.
// Usage: dump_climvae MODEL OUT.txt
//        dump_climvae --random EMBEDDING CELLS SEED OUT.model [temporal]   (a randomly initialised model
//        with a cell embedding, to check the embedding paths too)
#include <Kokkos_Core.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <cmath>
#include <random>
#include <string>

#include "common/error.hpp"
#include "model/model_file.hpp"
#include "model/seasonal.hpp"
#include "model/vae.hpp"

namespace climvae {
namespace {

constexpr int kBatch = 3, kSteps = 3;

void write(std::ofstream& out, const std::string& name, const View3& v) {
  const auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  out << name << " " << v.extent(0) << " " << v.extent(1) << " " << v.extent(2) << "\n";
  char text[32];
  for (size_t i = 0; i < v.size(); ++i) {
    std::snprintf(text, sizeof text, "%.9g ", static_cast<double>(h.data()[i]));
    out << text;
  }
  out << "\n";
}

View3 normals(const std::string& label, size_t a, size_t b, size_t c, std::mt19937& rng, double sd) {
  View3 v(label, a, b, c);
  const auto h = Kokkos::create_mirror_view(v);
  std::normal_distribution<float> normal(0.0f, static_cast<float>(sd));
  for (size_t i = 0; i < v.size(); ++i) h.data()[i] = normal(rng);
  Kokkos::deep_copy(v, h);
  return v;
}

void dump(const std::string& model_path, const std::string& out_path) {
  const ModelFile file = load_model(model_path);
  Vae vae(file.config);
  load_parameters(vae, file.parameters);
  const VaeConfig& c = file.config;
  const int hours = kSteps * Vae::kHoursPerStep;
  std::mt19937 rng(2024);

  CellIndices cells("cells", kBatch);
  const auto cells_h = Kokkos::create_mirror_view(cells);
  for (int b = 0; b < kBatch; ++b) cells_h(b) = c.embedding > 0 ? b % c.cells : 0;
  Kokkos::deep_copy(cells, cells_h);

  const View3 z = normals("z", kBatch, kSteps, c.latent, rng, 1.0);
  View3 decoded("decoded", kBatch, hours, 1);
  vae.decode(z, cells, decoded);

  // Windows starting at local midnight on days 10, 130, 250 of 2021, in the cell's hemisphere.
  View3 season("season", kBatch, kSteps, kSeasonalFeatures);
  const auto season_h = Kokkos::create_mirror_view(season);
  for (int b = 0; b < kBatch; ++b) {
    const int64_t start = (int64_t{18628} + 10 + 120 * b) * 24;  // 18628: days 1970-01-01 -> 2021-01-01
    const double phase = file.cells.empty() ? 0.0 : file.cells[size_t(cells_h(b)) % file.cells.size()].season_shift_days;
    seasonal_features(start, kSteps, &season_h(b, 0, 0), phase);
  }
  Kokkos::deep_copy(season, season_h);
  const View3 x3 = normals("x", kBatch, hours, 1, rng, 1.0);
  const View2 x(x3.data(), kBatch, hours);
  const View3 eps = normals("eps", kBatch, kSteps, c.latent, rng, 1.0);
  const LossParts loss = vae.forward_backward(x, season, cells, eps, false);

  std::ofstream out(out_path);
  require(out.good(), "cannot create '" + out_path + "'");
  View3 cells_f("cells_f", kBatch, 1, 1);
  const auto cells_fh = Kokkos::create_mirror_view(cells_f);
  for (int b = 0; b < kBatch; ++b) cells_fh(b, 0, 0) = static_cast<float>(cells_h(b));
  Kokkos::deep_copy(cells_f, cells_fh);
  write(out, "cells", cells_f);
  write(out, "z", z);
  write(out, "decoded", decoded);
  write(out, "season", season);
  write(out, "x", x3);
  write(out, "eps", eps);
  char text[96];
  std::snprintf(text, sizeof text, "loss 2 1 1\n%.17g %.17g\n", loss.reconstruction, loss.kl);
  out << text;
  require(out.good(), "cannot write '" + out_path + "'");
}

void random_model(int embedding, int cells, uint64_t seed, bool temporal, const std::string& out_path) {
  ModelFile m;
  m.config.embedding = embedding;
  m.config.cells = cells;
  if (temporal) m.config.prior = PriorKind::temporal;
  Vae vae(m.config);
  vae.initialize(seed);
  m.parameters = parameters_of(vae);
  if (temporal) {  // a fresh autoregression is zero: give it weights, so that rho differs from 0
    const ParamSlice& ar = vae.params().layout.find("prior_ar.kernel");
    for (size_t i = 0; i < ar.size; ++i) m.parameters[ar.offset + i] = 0.3f * std::sin(1.0f + i);
  }
  m.reference_year = 2021;
  for (int i = 0; i < cells; ++i) {
    ModelCell cell;
    cell.latitude = i % 2 ? -33.9 : 48.8;
    cell.season_shift_days = season_phase_days(cell.latitude);
    cell.offset_k = 285.0;  // plausible constants: load_model refuses meaningless ones
    cell.scale_k = 8.0;
    m.cells.push_back(cell);
  }
  save_model(m, out_path, true);
}

}  // namespace
}  // namespace climvae

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    if ((argc == 6 || argc == 7) && std::string(argv[1]) == "--random") {
      climvae::random_model(std::atoi(argv[2]), std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10),
                            argc == 7 && std::string(argv[6]) == "temporal", argv[5]);
    } else {
      climvae::require(argc == 3, "usage: dump_climvae MODEL OUT.txt | dump_climvae --random E CELLS SEED OUT.model");
      climvae::dump(argv[1], argv[2]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dump_climvae: %s\n", e.what());
    return 1;
  }
  return 0;
}
