// `climvae export`: runs the sibling executable climvae-export (which links LibTorch) with the
// same arguments, so that this binary stays free of LibTorch.
#include <spawn.h>
#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common/collective.hpp"
#include "common/error.hpp"

extern char** environ;

namespace {

std::string sibling_executable(const std::string& name) {
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  climvae::require(n > 0, "cannot find this executable's directory (/proc/self/exe): " + std::string(std::strerror(errno)));
  const std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + name;
}

int spawn_export(int argc, char** argv) {
  const std::string exe = sibling_executable("climvae-export");
  climvae::require(::access(exe.c_str(), X_OK) == 0,
                   "'" + exe + "' is not installed: 'climvae export' needs climvae built with LibTorch "
                   "(-DCLIMVAE_WITH_TORCH=ON), which builds climvae-export next to climvae");
  std::vector<char*> args;
  args.push_back(const_cast<char*>(exe.c_str()));
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, args.data(), environ);
  climvae::require(err == 0, "cannot run '" + exe + "': " + std::strerror(err));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    climvae::require(errno == EINTR, "waiting for '" + exe + "' failed: " + std::string(std::strerror(errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  throw climvae::Error("'" + exe + "' was killed by signal " + std::to_string(WTERMSIG(status)));
}

// Rank 0 alone runs the child: under `mpirun -np 2` every rank ran it, one wrote the file and the
// other failed saying the file it had just seen written "exists". The others take rank 0's status.
int run(int argc, char** argv) {
  int status = 0;
  climvae::run_on_root(MPI_COMM_WORLD, [&] { status = spawn_export(argc, argv); });
  MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return status;
}

}  // namespace

static const climvae::cli::Registration registration{"export", run, "write a model's weights as a PyTorch state dict"};
