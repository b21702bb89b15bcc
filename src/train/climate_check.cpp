#include "train/climate_check.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/calendar.hpp"
#include "common/collective.hpp"
#include "common/moments.hpp"
#include "generate/generator.hpp"

namespace climvae {

namespace {

constexpr int kMembers = 16;
constexpr uint64_t kCheckSeed = 0xC11A7EULL;
const char* const kMonthNames[12] = {"January", "February", "March",     "April",   "May",      "June",
                                     "July",    "August",   "September", "October", "November", "December"};

// How far out of the climate one month is: 1 at a bound, above 1 beyond it; infinite for traces
// that are not numbers (std::max would drop a NaN term).
double departure(const Moments& obs, const Moments& gen) {
  if (!(std::isfinite(gen.sum) && std::isfinite(gen.sq))) return INFINITY;
  const double sd = std::max(obs.sd(), 1e-6);
  return std::max(gen.sd() / sd / kMaxSdRatio, std::fabs(gen.mean() - obs.mean()) / sd / kMaxMeanOffsetSd);
}

}  // namespace

std::string generated_climate_departure(Vae& vae, const ModelFile& model, const Store& store, MPI_Comm comm) {
  struct {
    double score;
    int rank;
  } worst{0, 0};
  MPI_Comm_rank(comm, &worst.rank);
  std::string text;
  run_on_all_ranks(comm, [&] {  // a rank that fails stops every rank, rather than leaving them in the reduction
    for (int c = 0; c < static_cast<int>(store.cells.size()); ++c) {
      const int global = store.first_cell + c;
      const ModelCell& cell = model.cells[global];
      TraceRequest r = store_period_request(store, c, kMembers, kCheckSeed);
      r.spatial = r.calibrated = false;  // the network's own traces
      const std::vector<float> generated = generate_traces(vae, model, r);  // (time, member), K
      Moments obs[12], gen[12];
      for (int64_t i = 0; i < store.num_hours; ++i) {
        const double o = store.detrended_k(c, i);
        if (!std::isfinite(o)) continue;
        const int month = civil_from_hours(store.start_hour + i + cell.utc_offset_hours).month - 1;
        obs[month].add(o);
        for (int m = 0; m < kMembers; ++m) gen[month].add(generated[size_t(i) * kMembers + m]);
      }
      for (int month = 0; month < 12; ++month) {
        if (obs[month].n < 24 * 7) continue;  // a week of data at least
        const double score = departure(obs[month], gen[month]);
        if (score <= worst.score) continue;
        worst.score = score;
        char line[256];
        std::snprintf(line, sizeof line,
                      "cell %d (%.2f N, %.2f E) in %s: generated mean %.1f degC, sd %.1f K against %.1f degC, %.1f K observed",
                      global, cell.latitude, cell.longitude, kMonthNames[month], gen[month].mean() - 273.15,
                      gen[month].sd(), obs[month].mean() - 273.15, obs[month].sd());
        text = line;
      }
    }
  });
  // The worst month of all ranks, named by the rank that has it.
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE_INT, MPI_MAXLOC, comm);
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, worst.rank, comm);
  text.resize(static_cast<size_t>(length));
  MPI_Bcast(text.data(), length, MPI_CHAR, worst.rank, comm);
  return worst.score > 1 ? text : "";
}

}  // namespace climvae
