// Communicator: collectives over every process of the job (one process when run alone).
#include "xgrad/dist/communicator.hpp"

#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace {

// The size the launcher asked for (Open MPI's mpirun says it), or 1 when run alone.
std::size_t launched_size() {
    const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
    return size ? std::stoul(size) : 1;
}

}  // namespace

TEST_CASE("the world has every process of the job, each with its own rank") {
    xg::dist::Communicator world;
    CHECK(world.size() == launched_size());
    CHECK(world.rank() < world.size());
    CHECK(world.is_root() == (world.rank() == 0));
    // Ranks are distinct: they sum to 0 + 1 + ... + (size - 1).
    std::vector<double> rank = {static_cast<double>(world.rank())};
    world.sum(rank);
    CHECK(rank[0] == static_cast<double>(world.size() * (world.size() - 1) / 2));
    CHECK(world.local_size() >= 1);
    CHECK(world.local_size() <= world.size());
}

TEST_CASE("broadcast gives every process process 0's values") {
    xg::dist::Communicator world;
    const auto r = static_cast<float>(world.rank());
    std::vector<float> floats = {r, r + 0.5f, -r};
    world.broadcast(floats);
    CHECK(floats == std::vector<float>{0.0f, 0.5f, 0.0f});

    std::vector<double> doubles(1000, 1.0 + world.rank());
    world.broadcast(doubles);
    CHECK(doubles == std::vector<double>(1000, 1.0));

    std::vector<std::size_t> sizes = {world.rank() + 7, 60000};
    world.broadcast(sizes);
    CHECK(sizes == std::vector<std::size_t>{7, 60000});

    std::vector<float> empty;
    world.broadcast(empty);
    CHECK(empty.empty());
}

TEST_CASE("sum adds elementwise over the processes; max takes the largest") {
    xg::dist::Communicator world;
    const std::size_t p = world.size();
    // 400,000 floats, about the reference model's gradient.
    std::vector<float> values(400000);
    std::iota(values.begin(), values.end(), 0.0f);
    for (auto& v : values) v = static_cast<float>(world.rank() + 1) * 0.25f;
    world.sum(values);
    const float expected = 0.25f * static_cast<float>(p * (p + 1) / 2);
    CHECK(std::all_of(values.begin(), values.end(), [&](float v) { return v == expected; }));

    std::vector<double> doubles = {1.0, static_cast<double>(world.rank())};
    world.sum(doubles);
    CHECK(doubles[0] == static_cast<double>(p));

    CHECK(world.max(static_cast<double>(world.rank())) == static_cast<double>(p - 1));
    CHECK(world.max(-1.5) == -1.5);
    world.barrier();
}

TEST_CASE("check_all returns everywhere when no process failed") {
    xg::dist::Communicator world;
    CHECK_NOTHROW(world.check_all(false, "unused"));
}

TEST_CASE("check_all throws on every process, naming the first that failed") {
    xg::dist::Communicator world;
    const std::size_t last = world.size() - 1;
    // The last process fails (process 0 when alone); the others must learn it.
    const bool failed = world.rank() == last;
    try {
        world.check_all(failed, failed ? "cannot open train-images-idx3-ubyte.gz" : "");
        FAIL("check_all returned on process " << world.rank());
    } catch (const xg::dist::CollectiveError& e) {
        CHECK(e.failed_rank() == last);
        const std::string what = e.what();
        CHECK(what.find("cannot open train-images-idx3-ubyte.gz") != std::string::npos);
        if (world.size() > 1) CHECK(what.find("process " + std::to_string(last) + " of ") == 0);
    }

    // Several failures: the lowest rank's message wins.
    try {
        world.check_all(true, "failure on " + std::to_string(world.rank()));
        FAIL("check_all returned");
    } catch (const xg::dist::CollectiveError& e) {
        CHECK(e.failed_rank() == 0);
        CHECK(std::string(e.what()).find("failure on 0") != std::string::npos);
    }
}

TEST_CASE("together returns the step's value, or throws CollectiveError on every process") {
    xg::dist::Communicator world;
    CHECK(xg::dist::together(world, [&] { return world.rank() * 2; }) == world.rank() * 2);
    int calls = 0;
    xg::dist::together(world, [&] { ++calls; });
    CHECK(calls == 1);

    const std::size_t last = world.size() - 1;
    auto step = [&]() -> std::string {
        if (world.rank() == last) throw std::runtime_error("load_mnist: no such folder");
        return "loaded";
    };
    CHECK_THROWS_WITH_AS(xg::dist::together(world, step), doctest::Contains("load_mnist: no such folder"),
                         xg::dist::CollectiveError);
}

TEST_CASE("data_parallel is the world as a DataParallel") {
    auto parallel = xg::dist::data_parallel();
    xg::dist::Communicator world;
    CHECK(parallel->world_size() == world.size());
    CHECK(parallel->rank() == world.rank());
    CHECK(parallel->is_root() == world.is_root());
}
