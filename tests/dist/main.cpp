// The doctest main of the dist tests, for one process or every process of an MPI job.
// Every process runs every test; process 0 reports on stdout, the others on stderr (so the
// log holds one summary), and the status is a failure when any process failed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <iostream>

#include "xgrad/dist/communicator.hpp"

int main(int argc, char** argv) {
    xg::dist::Environment mpi(argc, argv);
    xg::dist::Communicator world;
    doctest::Context context(argc, argv);
    if (!world.is_root()) context.setCout(&std::cerr);
    // mpirun hands process 0 a terminal even when its own output is a log file.
    if (world.size() > 1) context.setOption("no-colors", true);
    const int status = context.run();
    if (context.shouldExit()) return status;
    return world.max(status != 0 ? 1.0 : 0.0) > 0.0 ? 1 : 0;
}
