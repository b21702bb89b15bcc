#include "common/collective.hpp"

#include <exception>

#include "common/error.hpp"

namespace climvae {

std::string error_message_of(const std::function<void()>& work) {
  try {
    work();
  } catch (const std::exception& e) {
    return std::string(e.what()).empty() ? "unknown error" : e.what();
  }
  return "";
}

void throw_if_any_rank_failed(MPI_Comm comm, const std::string& local_error) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int mine = local_error.empty() ? size : rank;
  int first_failed = size;
  MPI_Allreduce(&mine, &first_failed, 1, MPI_INT, MPI_MIN, comm);
  if (first_failed == size) return;
  std::string message = local_error;
  int length = static_cast<int>(message.size());
  MPI_Bcast(&length, 1, MPI_INT, first_failed, comm);
  message.resize(static_cast<size_t>(length));
  MPI_Bcast(message.data(), length, MPI_CHAR, first_failed, comm);
  if (size > 1) message += " (rank " + std::to_string(first_failed) + " of " + std::to_string(size) + ")";
  int same = MPI_UNEQUAL;
  MPI_Comm_compare(comm, MPI_COMM_WORLD, &same);
  throw AllRanksError(message, same == MPI_IDENT || same == MPI_CONGRUENT);
}

void run_on_root(MPI_Comm comm, const std::function<void()>& work) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  throw_if_any_rank_failed(comm, rank == 0 ? error_message_of(work) : "");
}

void run_on_all_ranks(MPI_Comm comm, const std::function<void()>& work) {
  throw_if_any_rank_failed(comm, error_message_of(work));
}

std::string broadcast_from_root(MPI_Comm comm, const std::string& text) {
  int length = static_cast<int>(text.size());
  MPI_Bcast(&length, 1, MPI_INT, 0, comm);
  std::string out = text;
  out.resize(static_cast<size_t>(length));
  MPI_Bcast(out.data(), length, MPI_CHAR, 0, comm);
  return out;
}

}  // namespace climvae
