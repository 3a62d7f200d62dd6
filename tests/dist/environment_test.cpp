// Environment: MPI for a program's life, and how a failing process ends the program.
#include "xgrad/dist/environment.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include <doctest/doctest.h>

#include "xgrad/dist/communicator.hpp"

namespace {

// Captures what is written to std::cerr while alive.
class CerrCapture {
public:
    CerrCapture() : previous_(std::cerr.rdbuf(text_.rdbuf())) {}
    ~CerrCapture() { std::cerr.rdbuf(previous_); }
    std::string str() const { return text_.str(); }

private:
    std::ostringstream text_;
    std::streambuf* previous_;
};

}  // namespace

TEST_CASE("MPI runs exactly when a launcher started the tests") {
#ifdef XGRAD_WITH_MPI
    CHECK(xg::dist::mpi_built());
    const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
    const char* forced = std::getenv("XGRAD_MPI");
    if (!forced) CHECK(xg::dist::mpi_running() == launched);
#else
    // Built without MPI, it never runs: every program is a world of one process.
    CHECK_FALSE(xg::dist::mpi_built());
    CHECK_FALSE(xg::dist::mpi_running());
#endif
}

TEST_CASE("fail reports a collective error once, on process 0, and returns 1 everywhere") {
    xg::dist::Communicator world;
    int argc = 0;
    char** argv = nullptr;
    xg::dist::Environment env(argc, argv);
    std::string printed;
    int status = 0;
    {
        CerrCapture capture;
        status = env.fail("mnist", xg::dist::CollectiveError(1, "process 1 of 2: cannot open data"));
        printed = capture.str();
    }
    CHECK(status == 1);
    if (world.is_root()) {
        CHECK(printed == "mnist: error: process 1 of 2: cannot open data\n");
    } else {
        CHECK(printed.empty());
    }
}

TEST_CASE("a second Environment neither initialises MPI again nor finalises it") {
    const bool running = xg::dist::mpi_running();
    {
        int argc = 0;
        char** argv = nullptr;
        xg::dist::Environment env(argc, argv);
        CHECK(xg::dist::mpi_running() == running);
    }
    CHECK(xg::dist::mpi_running() == running);
    xg::dist::Communicator world;
    world.barrier();
}

TEST_CASE("fail alone reports any error and returns 1") {
    xg::dist::Communicator world;
    if (world.size() > 1) return;  // with several processes, a local error ends the job (tested by running it)
    int argc = 0;
    char** argv = nullptr;
    xg::dist::Environment env(argc, argv);
    CerrCapture capture;
    CHECK(env.fail("mnist", std::invalid_argument("fit: batch_size is 0; expected at least 1")) == 1);
    CHECK(capture.str() == "mnist: error: fit: batch_size is 0; expected at least 1\n");
}

TEST_CASE("under Open MPI's launcher, a process waiting in a collective yields its core") {
    if (!xg::dist::mpi_running() || !std::getenv("OMPI_COMM_WORLD_SIZE")) return;
    // Set before MPI_Init unless the user chose (mpirun --mca mpi_yield_when_idle 0 sets it too).
    CHECK(std::getenv("OMPI_MCA_mpi_yield_when_idle") != nullptr);
}
