// Helpers shared by the GoogleTest files: the rank, a scratch directory every rank sees, and
// the message of an expected climvae::Error.
#pragma once
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "common/error.hpp"

namespace climvae::testing {

inline int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

// One fresh directory, the same on every rank (rank 0 makes it), removed when it goes out of
// scope. Collective: every rank constructs and destroys it together.
class SharedDirectory {
 public:
  explicit SharedDirectory(const std::string& prefix = "climvae-test") {
    char name[256] = {};
    if (world_rank() == 0) {
      std::snprintf(name, sizeof name, "/tmp/%s-XXXXXX", prefix.c_str());
      if (!mkdtemp(name)) name[0] = '\0';
    }
    MPI_Bcast(name, sizeof name, MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = name;
  }
  ~SharedDirectory() {
    MPI_Barrier(MPI_COMM_WORLD);
    std::error_code ignored;
    if (world_rank() == 0 && !path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  SharedDirectory(const SharedDirectory&) = delete;
  SharedDirectory& operator=(const SharedDirectory&) = delete;

  const std::string& path() const { return path_; }
  operator const std::string&() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // File names in the directory, sorted, without ROMIO's lock-test files.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) {
      const std::string name = e.path().filename().string();
      if (name.find(".locktest.") == std::string::npos) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::string path_;
};

// The message of the climvae::Error that `call` throws ("" and a test failure if none).
template <typename Call>
std::string error_message(Call call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a climvae::Error";
  return "";
}

}  // namespace climvae::testing
