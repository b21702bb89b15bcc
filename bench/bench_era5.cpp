// ERA5 in, end to end at scale: makes a synthetic region (ERA5 layouts: netCDF-3 packed short
// and netCDF-4 float), prepares a store from each with every rank of the job, then reads the
// store for training (StoreCells::my_share) and compares with a plain sequential read of the
// same file (dd). Run at 1 and 2 ranks with bench/run_era5.sh; prints MB/s.
// Options: --rows R --cols C (100 x 100 cells) --hours H (8760) --dir DIR (/tmp) --keep
#include <mpi.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "bench_options.hpp"
#include "common/calendar.hpp"
#include "data/region.hpp"
#include "data/store.hpp"
#include "synthetic_era5.hpp"

namespace {

double file_mb(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_size / 1e6 : 0;
}

// Drops the file's pages from the page cache (after flushing them), so the next read is from disk.
void evict_from_page_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// What `dd if=PATH of=/dev/null bs=16M` does, in this process (no fork in the timing).
double plain_read_seconds(const std::string& path) {
  std::vector<char> buffer(16 << 20);
  const double start = MPI_Wtime();
  const int fd = ::open(path.c_str(), O_RDONLY);
  while (fd >= 0 && ::read(fd, buffer.data(), buffer.size()) > 0) {
  }
  if (fd >= 0) ::close(fd);
  return MPI_Wtime() - start;
}

// Seconds of the slowest rank for `work` started together.
template <typename Work>
double timed(Work work) {
  MPI_Barrier(MPI_COMM_WORLD);
  const double start = MPI_Wtime();
  work();
  double seconds = MPI_Wtime() - start;
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  climvae::synthetic::Era5Spec spec;
  spec.rows = spec.cols = 100;
  spec.hours = 8760;
  spec.north = 60;
  spec.west = -10;
  spec.first_hour = climvae::parse_iso_hour("2023-01-01");
  std::string dir = "/tmp";
  bool keep = false;
  try {
    const bool run = climvae::bench::parse_options(
        argc, argv, "bench_era5",
        {{"--rows", &spec.rows}, {"--cols", &spec.cols}, {"--hours", &spec.hours}, {"--dir", &dir}, {"--keep", &keep}},
        "Usage: bench/run_era5.sh [BUILD_DIR] [--rows R (100)] [--cols C (100)] [--hours H (8760)] [--dir DIR (/tmp)]"
        " [--keep]\n");
    if (!run) {
      MPI_Finalize();
      return 0;
    }
  } catch (const std::exception& e) {
    if (rank == 0) std::fprintf(stderr, "%s\n", e.what());
    MPI_Finalize();
    return 2;
  }
  const std::string base = dir + "/climvae_bench_era5_";
  const int cells = spec.rows * spec.cols;
  if (rank == 0)
    std::printf("bench_era5: %d cells (%d x %d) x %lld hours, %d rank(s), files in %s\n", cells, spec.rows, spec.cols,
                static_cast<long long>(spec.hours), ranks, dir.c_str());
  struct Input {
    const char* name;
    void (*write)(const std::string&, const climvae::synthetic::Era5Spec&);
  };
  const Input inputs[] = {{"netCDF-3 packed short", climvae::synthetic::write_classic},
#ifdef CLIMVAE_SYNTHETIC_NETCDF4
                          {"netCDF-4 float", climvae::synthetic::write_netcdf4}
#endif
  };
  int index = 0;
  for (const Input& input : inputs) {
    const std::string era5 = base + std::to_string(index) + "_input.nc", store = base + std::to_string(index) + "_store.nc";
    ++index;
    double make_seconds = 0;
    if (rank == 0) {
      const double start = MPI_Wtime();
      input.write(era5, spec);
      make_seconds = MPI_Wtime() - start;
    }
    MPI_Barrier(MPI_COMM_WORLD);

    climvae::RegionOptions options;
    options.inputs = {era5};
    options.preprocess.trend_k_per_year = 0.0;  // one year: nothing to estimate
    // Also the CPU seconds of the busiest rank: on a shared machine, wall time alone hides
    // whether the ranks got their cores.
    double prepare_cpu = std::clock();
    climvae::Store share;
    const double region_seconds = timed([&] { share = climvae::prepare_region(options, MPI_COMM_WORLD); });
    const double write_seconds = timed([&] { climvae::write_store_share(share, store, true, MPI_COMM_WORLD); });
    const double prepare_seconds = region_seconds + write_seconds;
    share = climvae::Store{};
    prepare_cpu = (std::clock() - prepare_cpu) / CLOCKS_PER_SEC;
    MPI_Allreduce(MPI_IN_PLACE, &prepare_cpu, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    // Reads, cold (the store's pages dropped from the page cache first: the disk's speed) and
    // warm (cached: memory speed). Best of 3 each; the machine is shared.
    size_t held = 0;
    double read_seconds[2] = {1e30, 1e30}, plain_seconds[2] = {1e30, 1e30};
    for (int warm = 0; warm < 2; ++warm)
      for (int repeat = 0; repeat < 3; ++repeat) {
        if (!warm && rank == 0) evict_from_page_cache(store);
        read_seconds[warm] = std::min(read_seconds[warm], timed([&] {
          const climvae::Store mine = climvae::read_store(store, MPI_COMM_WORLD, climvae::StoreCells::my_share);
          held = mine.cells.size();
        }));
        if (rank == 0) {
          if (!warm) evict_from_page_cache(store);
          plain_seconds[warm] = std::min(plain_seconds[warm], plain_read_seconds(store));
        }
      }
    if (rank == 0) {
      const double store_mb = file_mb(store), input_mb = file_mb(era5);
      std::printf("%-22s input %7.1f MB (made in %5.1f s)\n", input.name, input_mb, make_seconds);
      std::printf("  prepare             %7.2f s  %8.1f MB/s of input   (%d ranks; busiest rank's CPU %.2f s; "
                  "read + preprocess %.2f s, write %.2f s)\n",
                  prepare_seconds, input_mb / prepare_seconds, ranks, prepare_cpu, region_seconds, write_seconds);
      for (int warm = 0; warm < 2; ++warm)
        std::printf("  read store, %s   %7.3f s  %8.1f MB/s  | plain read %7.3f s %8.1f MB/s | ratio %.2f  (rank 0: %zu cells)\n",
                    warm ? "warm" : "cold", read_seconds[warm], store_mb / read_seconds[warm], plain_seconds[warm],
                    store_mb / plain_seconds[warm], plain_seconds[warm] / read_seconds[warm], held);
      std::fflush(stdout);
      if (!keep) std::remove(era5.c_str()), std::remove(store.c_str());
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  MPI_Finalize();
  return 0;
}
