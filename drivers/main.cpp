// climvae: the command-line front end. Initialises MPI then Kokkos, dispatches to a subcommand,
// and turns any error into a message on stderr and a non-zero exit (aborting the other MPI ranks
// rather than leaving them to hang).
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <exception>
#include <new>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/collective.hpp"

namespace {

const std::vector<climvae::cli::Command>& commands() {
  static const std::vector<climvae::cli::Command> sorted = [] {
    auto table = climvae::cli::registered_commands();
    std::sort(table.begin(), table.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return table;
  }();
  return sorted;
}

void usage(std::ostream& out) {
  out << "Usage: climvae <command> [options]   (climvae <command> --help for its options)\n\nCommands:\n";
  for (const auto& c : commands()) out << "  " << c.name << std::string(12 - c.name.size(), ' ') << c.summary << "\n";
  out << "\nclimvae " << CLIMVAE_VERSION_STRING << "\n";
}

int rank_of_world() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int status = 0;
  {
    // Kokkos sees only its own --kokkos-* options (it would otherwise answer --help itself), the
    // subcommand only the others (e.g. --kokkos-device-id=$SLURM_LOCALID from a job script).
    std::vector<char*> kokkos_args{argv[0]}, command_args;
    for (int i = 1; i < argc; ++i)
      (std::string(argv[i]).rfind("--kokkos-", 0) == 0 ? kokkos_args : command_args).push_back(argv[i]);
    int kokkos_argc = static_cast<int>(kokkos_args.size());
    Kokkos::ScopeGuard kokkos(kokkos_argc, kokkos_args.data());
    const std::string name = command_args.empty() ? "" : command_args[0];
    const climvae::cli::Command* found = nullptr;
    for (const auto& c : commands())
      if (name == c.name) found = &c;
    if (name == "--version") {
      if (rank_of_world() == 0) std::cout << "climvae " << CLIMVAE_VERSION_STRING << "\n";
    } else if (name.empty() || name == "--help" || name == "-h") {
      if (rank_of_world() == 0) usage(std::cout);
      status = name.empty() ? 2 : 0;
    } else if (!found) {
      if (rank_of_world() == 0) {
        std::cerr << "climvae: unknown command '" << name << "'\n";
        usage(std::cerr);
      }
      status = 2;
    } else {
      try {
        status = found->run(static_cast<int>(command_args.size()), command_args.data());
      } catch (const std::exception& e) {
        const auto* all = dynamic_cast<const climvae::AllRanksError*>(&e);
        int size = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        if (all && all->whole_world()) {
          // Every rank has the same error: one line, and a normal exit of all ranks.
          if (rank_of_world() == 0) std::cerr << "climvae " << name << ": error: " << e.what() << std::endl;
        } else {
          const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
          std::cerr << "climvae " << name << ": error"
                    << (size > 1 ? " on rank " + std::to_string(rank_of_world()) + " of " + std::to_string(size) : "")
                    << ": " << (out_of_memory ? "out of memory (" + std::string(e.what()) + ")" : e.what()) << std::endl;
          if (size > 1) MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks would wait forever
        }
        status = 1;
      }
    }
  }
  MPI_Finalize();
  return status;
}
