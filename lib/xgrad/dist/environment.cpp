#include "xgrad/dist/environment.hpp"

#include <cstdlib>
#include <iostream>
#include <string_view>

#include <fmt/format.h>

#ifdef XGRAD_WITH_MPI
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace xg::dist {
namespace {

// Whether an MPI launcher started this process, from the variables launchers set: Open MPI's
// mpirun, PMI (MPICH's Hydra, Intel MPI, Slurm's pmi2) and PMIx (Slurm, Open MPI 5).
bool started_by_launcher() {
    if (const char* forced = std::getenv("XGRAD_MPI")) return std::string_view(forced) != "0";
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
        if (std::getenv(name)) return true;
    }
    return false;
}

// The number of processes the launcher started, from its variables; 0 when it does not say.
[[maybe_unused]] std::size_t launched_size() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
        if (const char* size = std::getenv(name)) return std::strtoul(size, nullptr, 10);
    }
    return 0;
}

// Rank and size without a Communicator: fail() must not make collective calls.
std::pair<int, int> rank_and_size() {
    int rank = 0, size = 1;
#ifdef XGRAD_WITH_MPI
    if (mpi_running()) {
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
    }
#endif
    return {rank, size};
}

}  // namespace

bool mpi_built() {
#ifdef XGRAD_WITH_MPI
    return true;
#else
    return false;
#endif
}

bool mpi_running() {
#ifdef XGRAD_WITH_MPI
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    return initialized && !finalized;
#else
    return false;
#endif
}

Environment::Environment(int& argc, char**& argv) {
    if (!started_by_launcher() || mpi_running()) return;
#ifdef XGRAD_WITH_MPI
#ifdef OPEN_MPI
    // Open MPI polls at full speed while a process waits in a collective, taking the core of the
    // process it waits for wherever processes outnumber free cores (a workstation, a shared node):
    // epochs 4 to 9 times slower on 2 busy cores. Yielding costs microseconds where cores are free.
    // A value the user gave (mpirun --mca mpi_yield_when_idle 0) wins.
    setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
#endif
    // MPI is only ever called from the main thread (BLAS threads never call it): plain MPI_Init.
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        throw std::runtime_error("Environment: MPI_Init failed; expected a working MPI installation");
    }
    initialized_here_ = true;
#else
    (void)argc;
    (void)argv;
    // Several copies of one program, each training alone and writing the same files, is never what was meant.
    if (const std::size_t size = launched_size(); size > 1) {
        abort_job(fmt::format("Environment: started by an MPI launcher as one of {} processes, but this build of xgrad "
                              "has no MPI; expected one process, or a build with MPI (meson setup -Dmpi=enabled)",
                              size));
    }
#endif
}

Environment::~Environment() {
#ifdef XGRAD_WITH_MPI
    if (initialized_here_ && mpi_running()) MPI_Finalize();
#endif
}

int Environment::fail(const std::string& program, const std::exception& error) {
    const auto [rank, size] = rank_and_size();
    if (size == 1 || dynamic_cast<const CollectiveError*>(&error)) {
        if (rank == 0) {
            std::cout.flush();
            std::cerr << fmt::format("{}: error: {}\n", program, error.what()) << std::flush;
        }
        return 1;
    }
    abort_job(fmt::format("{}: error on process {} of {}: {}", program, rank, size, error.what()));
}

void abort_job(const std::string& message, int status) {
    std::cout.flush();
    std::cerr << message << "\n" << std::flush;
#ifdef XGRAD_WITH_MPI
    if (mpi_running()) MPI_Abort(MPI_COMM_WORLD, status);
#endif
    std::exit(status);
}

}  // namespace xg::dist
