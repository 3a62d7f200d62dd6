#pragma once
// Environment: MPI for the life of a program, and how a program ends when one of its
// processes fails, so that a job never waits forever for a process that is gone.
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>

namespace xg::dist {

/// Whether this build of xgrad has MPI (meson option mpi; XGRAD_WITH_MPI).
bool mpi_built();
/// Whether MPI is initialised and not yet finalised in this process.
bool mpi_running();

/// Make one at the top of main(), before any other xg::dist call. It initialises MPI when an
/// MPI launcher started the program (mpirun, mpiexec, srun: recognised by the variables
/// they set, OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK; XGRAD_MPI=1 forces it, XGRAD_MPI=0
/// prevents it) and finalises it when destroyed. A program started on its own is a world of
/// one process and pays nothing for MPI. Built without MPI, a program that a launcher started
/// as one of several processes exits with status 1 and a message (abort_job). With Open MPI,
/// processes waiting in a collective yield their core (mpi_yield_when_idle) unless told otherwise.
class Environment {
public:
    Environment(int& argc, char**& argv);
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

    /// What main() returns after `error` escaped on this process. Alone, or for a
    /// CollectiveError (raised on every process at once), process 0 prints
    /// "<program>: error: <what>" and every process returns 1. Any other error is printed with
    /// this process's rank and ends the whole job (MPI_Abort): the others may be waiting for
    /// this one in a collective call.
    int fail(const std::string& program, const std::exception& error);

private:
    bool initialized_here_ = false;
};

/// Thrown on every process at once when a step failed on one or more of them (see
/// Communicator::check_all); what() names the first failing process and its message.
class CollectiveError : public std::runtime_error {
public:
    CollectiveError(std::size_t failed_rank, const std::string& message)
        : std::runtime_error(message), failed_rank_(failed_rank) {}
    std::size_t failed_rank() const { return failed_rank_; }

private:
    std::size_t failed_rank_;
};

/// Ends every process of the job with `status` after printing `message` on this process's
/// stderr (MPI_Abort; std::exit when MPI is not running).
[[noreturn]] void abort_job(const std::string& message, int status = 1);

}  // namespace xg::dist
