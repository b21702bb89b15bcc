// Keeping MPI ranks in step when something can fail on only some of them: every rank learns
// of the failure and throws the same climvae::Error, so no rank is left waiting in a collective.
#pragma once
#include <mpi.h>

#include <functional>
#include <string>

#include "common/error.hpp"

namespace climvae {

// What every rank of a communicator throws together (so none needs MPI_Abort): the message of
// the failing rank, with "(rank R of N)" appended when N > 1.
class AllRanksError : public Error {
 public:
  AllRanksError(const std::string& message, bool whole_world) : Error(message), whole_world_(whole_world) {}
  bool whole_world() const { return whole_world_; }  // thrown by every rank of MPI_COMM_WORLD

 private:
  bool whole_world_;
};

// Runs `work` on rank 0 only; if it throws, every rank of `comm` throws climvae::Error with
// rank 0's message. Collective.
void run_on_root(MPI_Comm comm, const std::function<void()>& work);

// Every rank passes its own error message ("" when it succeeded). If any rank failed, every
// rank throws AllRanksError with the message of the lowest failing rank. Collective.
void throw_if_any_rank_failed(MPI_Comm comm, const std::string& local_error);

// Runs `work` locally and returns the message of what it threw ("" when it succeeded).
std::string error_message_of(const std::function<void()>& work);

// Rank 0's `text` on every rank. Collective.
std::string broadcast_from_root(MPI_Comm comm, const std::string& text);

// Runs `work` on every rank, catching its exception, then throw_if_any_rank_failed.
void run_on_all_ranks(MPI_Comm comm, const std::function<void()>& work);

}  // namespace climvae
