// Tests for lib/xgrad/core/parallel.cpp: the parallel loop, and the ops that use it giving the
// same bits on one thread as on two.
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <xtensor/xrandom.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/conv_kernels.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/core/threads.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/image_dataset.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"

namespace {

// Sets the library's thread count for the life of the guard.
class Threads {
public:
    explicit Threads(int n) : saved_(xg::num_threads()) { xg::set_num_threads(n); }
    ~Threads() { xg::set_num_threads(saved_); }
    Threads(const Threads&) = delete;
    Threads& operator=(const Threads&) = delete;

private:
    int saved_;
};

// The ranges one parallel_for call made, in start order.
std::vector<std::pair<std::size_t, std::size_t>> ranges_of(std::size_t begin, std::size_t end, std::size_t grain) {
    std::mutex mutex;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    xg::parallel_for(begin, end, grain, [&](std::size_t lo, std::size_t hi) {
        std::lock_guard lock(mutex);
        ranges.emplace_back(lo, hi);
    });
    std::sort(ranges.begin(), ranges.end());
    return ranges;
}

bool same_bits(const xg::Array& a, const xg::Array& b) {
    return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
               return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
           });
}

// f's results on one thread and on two, for the same inputs.
template <class F>
std::pair<std::vector<xg::Array>, std::vector<xg::Array>> on_one_and_two(const F& f) {
    std::vector<xg::Array> one, two;
    {
        Threads t(1);
        one = f();
    }
    {
        Threads t(2);
        two = f();
    }
    return {one, two};
}

void check_same(const std::vector<xg::Array>& one, const std::vector<xg::Array>& two) {
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("result " << i << " of shape " << xg::format_shape(one[i].shape()));
        CHECK(same_bits(one[i], two[i]));
    }
}

// A loop over 1000 indices whose every range waits until a second thread has run one (or 20 s
// have passed), so the caller cannot finish it alone, however late a worker wakes: how many
// indices were not covered exactly once, and on how many threads it ran.
struct LoopRun {
    std::size_t wrong = 0;
    std::size_t threads = 0;
};

LoopRun loop_waiting_for_a_second_thread() {
    std::set<std::thread::id> ran_on;
    std::mutex mutex;
    std::condition_variable joined;
    std::vector<std::atomic<int>> seen(1000);
    xg::parallel_for(0, seen.size(), 1, [&](std::size_t lo, std::size_t hi) {
        {
            std::unique_lock lock(mutex);
            ran_on.insert(std::this_thread::get_id());
            joined.notify_all();
            joined.wait_for(lock, std::chrono::seconds(20), [&] { return ran_on.size() >= 2; });
        }
        for (std::size_t i = lo; i < hi; ++i) seen[i].fetch_add(1);
    });
    LoopRun run;
    for (const auto& s : seen) run.wrong += s.load() != 1;
    run.threads = ran_on.size();
    return run;
}

}  // namespace

TEST_CASE("parallel_for covers every index exactly once, on one thread and on two") {
    for (int threads : {1, 2, 3}) {
        Threads t(threads);
        for (std::size_t n : {0, 1, 2, 7, 64, 1000, 100003}) {
            for (std::size_t grain : {0, 1, 3, 64, 50000}) {
                std::vector<std::atomic<int>> seen(n + 10);
                xg::parallel_for(10, 10 + n, grain, [&](std::size_t lo, std::size_t hi) {
                    for (std::size_t i = lo; i < hi; ++i) seen[i].fetch_add(1);
                });
                std::size_t wrong = 0;
                for (std::size_t i = 0; i < n + 10; ++i) wrong += seen[i].load() != (i >= 10 ? 1 : 0);
                INFO("threads " << threads << ", n " << n << ", grain " << grain);
                CHECK(wrong == 0);
            }
        }
    }
}

TEST_CASE("a loop runs on at most the thread count's threads, and after a pause, when the workers have blocked, still on two") {
    // Earlier cases ran with three threads: the pool has more workers than two by now.
    Threads t(2);
    for (int round = 0; round < 6; ++round) {
        // Long enough for the workers' poll to end and the workers to block (they poll 200 us).
        if (round % 2 == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        const LoopRun run = loop_waiting_for_a_second_thread();
        INFO("round " << round);
        CHECK(run.wrong == 0);
        CHECK(run.threads == 2);
    }
}

TEST_CASE("a child process forked after the pool started runs loops on threads of its own and exits") {
    Threads t(2);
    std::vector<std::atomic<int>> warm(1000);
    xg::parallel_for(0, warm.size(), 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) warm[i].fetch_add(1);
    });
    std::fflush(nullptr);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The parent's workers did not follow: the loop must still cover its range, and exit()
        // must not wait for them. A hang becomes a failure by the alarm, not by a time taken.
        alarm(120);
        const LoopRun run = loop_waiting_for_a_second_thread();  // the second: a worker of the child's own
        std::exit(run.wrong != 0 ? 3 : run.threads != 2 ? 4 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    // Exit code 3: an index missed or repeated; 4: the loop ran on one thread; killed by SIGALRM: a hang.
    INFO("child status " << status);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("parallel_for splits only ranges of at least twice the grain, into pieces of at least the grain") {
    Threads t(2);
    CHECK(ranges_of(5, 5, 1).empty());
    CHECK(ranges_of(7, 5, 1).empty());
    using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;
    CHECK(ranges_of(0, 199, 100) == Ranges{{0, 199}});
    CHECK(ranges_of(0, 200, 100) == Ranges{{0, 100}, {100, 200}});
    CHECK(ranges_of(3, 8, 0) == Ranges{{3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}});  // grain 0 counts as 1
    for (const auto& [lo, hi] : ranges_of(0, 100000, 1000)) CHECK(hi - lo >= 1000);
    CHECK(ranges_of(0, 1, 1) == Ranges{{0, 1}});
    {
        Threads one(1);
        CHECK(ranges_of(0, 1000000, 1) == Ranges{{0, 1000000}});
    }
    {
        Threads three(3);
        CHECK(ranges_of(0, 300, 100) == Ranges{{0, 100}, {100, 200}, {200, 300}});
        CHECK(ranges_of(0, 299, 100) == Ranges{{0, 149}, {149, 299}});
    }
}

TEST_CASE("an exception thrown in a range reaches the caller as the same error, the first range's") {
    Threads t(2);
    try {
        xg::parallel_for(0, 1000, 100, [](std::size_t lo, std::size_t hi) {
            if (lo >= 500 || hi > 500) throw xg::ShapeError("op: late range (" + std::to_string(lo) + "); expected none");
            throw xg::ValueError("op: early range (" + std::to_string(lo) + "); expected none");
        });
        FAIL("no exception");
    } catch (const xg::ValueError& e) {
        CHECK(std::string(e.what()) == "op: early range (0); expected none");
    }
    // Only the second range throws: every range still ran, then the error reaches the caller.
    std::atomic<std::size_t> done{0};
    CHECK_THROWS_AS(xg::parallel_for(0, 1000, 100,
                                     [&](std::size_t lo, std::size_t hi) {
                                         done += hi - lo;
                                         if (lo > 0) throw xg::StateError("op: second range; expected none");
                                     }),
                    xg::StateError);
    CHECK(done == 1000);
    // The pool is usable afterwards.
    std::atomic<std::size_t> sum{0};
    xg::parallel_for(0, 1000, 100, [&](std::size_t lo, std::size_t hi) { sum += hi - lo; });
    CHECK(sum == 1000);
}

TEST_CASE("a parallel_for inside another runs on its thread and does not deadlock") {
    Threads t(2);
    std::vector<std::atomic<int>> seen(100 * 100);
    xg::parallel_for(0, 100, 1, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) {
            xg::parallel_for(0, 100, 1, [&](std::size_t l, std::size_t h) {
                for (std::size_t j = l; j < h; ++j) seen[i * 100 + j].fetch_add(1);
            });
        }
    });
    CHECK(std::all_of(seen.begin(), seen.end(), [](const std::atomic<int>& v) { return v.load() == 1; }));
}

TEST_CASE("parallel_for called from several threads at once gives each its whole range") {
    Threads t(2);
    std::vector<std::thread> callers;
    std::vector<std::size_t> totals(4, 0);
    for (std::size_t k = 0; k < totals.size(); ++k) {
        callers.emplace_back([&, k] {
            for (int round = 0; round < 200; ++round) {
                std::atomic<std::size_t> sum{0};
                xg::parallel_for(0, 10000, 100, [&](std::size_t lo, std::size_t hi) {
                    for (std::size_t i = lo; i < hi; ++i) sum += i;
                });
                totals[k] += sum == 10000 * 9999 / 2 ? 1 : 0;
            }
        });
    }
    for (std::thread& c : callers) c.join();
    CHECK(totals == std::vector<std::size_t>(4, 200));
}

TEST_CASE("for_each_block splits by the block size alone") {
    for (int threads : {1, 2}) {
        Threads t(threads);
        std::vector<std::pair<std::size_t, std::size_t>> blocks(xg::block_count(10, 4));
        xg::for_each_block(10, 4, [&](std::size_t b, std::size_t lo, std::size_t hi) { blocks[b] = {lo, hi}; });
        CHECK(blocks == std::vector<std::pair<std::size_t, std::size_t>>{{0, 4}, {4, 8}, {8, 10}});
        std::size_t calls = 0;
        xg::for_each_block(0, 4, [&](std::size_t, std::size_t, std::size_t) { ++calls; });
        CHECK(calls == 0);
    }
}

// The products themselves are OpenBLAS's, whose sums may depend on its thread count and on how
// many images a chunk holds; what xgrad splits is the patch copying and the bias sums.
TEST_CASE("im2col, col2im and the convolution's bias gradient give the same bits on one thread as on two") {
    xt::random::seed(11);
    const xg::Array x = xt::random::rand<float>({16, 20, 20, 8}, -1.0f, 1.0f);
    const xg::Array w = xt::random::rand<float>({3, 3, 8, 16}, -1.0f, 1.0f);
    const xg::Array b = xt::random::rand<float>({16}, -1.0f, 1.0f);
    const xg::Array seed = xt::random::rand<float>({16, 18, 18, 16}, -1.0f, 1.0f);
    auto [one, two] = on_one_and_two([&] {
        std::vector<xg::Array> out;
        for (xg::Padding p : {xg::Padding::valid, xg::Padding::same}) {
            for (xg::Size2 s : {xg::Size2{1, 1}, xg::Size2{2, 1}}) {
                const xg::Window2d g = xg::window_geometry(x.shape(), {3, 3}, s, p, "test", "kernel");
                xg::Array col = xt::zeros<float>({g.n * g.oh * g.ow, g.kh * g.kw * g.c});
                xg::im2col(x.data(), g, 0, g.n, col.data());
                xg::Array back = xt::zeros<float>(x.shape());
                xg::col2im(col.data(), g, 0, g.n, back.data());
                xg::Array part = xt::zeros<float>(x.shape());
                xg::col2im(col.data() + 3 * g.oh * g.ow * col.shape(1), g, 3, 9, part.data());
                out.insert(out.end(), {col, back, part});
            }
        }
        xg::Tensor tx = xg::parameter(x, "x"), tw = xg::parameter(w, "w"), tb = xg::parameter(b, "b");
        xg::conv2d_with_bias(tx, tw, tb).backward(seed);
        out.push_back(tb.grad());
        return out;
    });
    check_same(one, two);
}

TEST_CASE("pooling gives the same bits on one thread as on two") {
    xt::random::seed(12);
    const xg::Array x = xt::random::rand<float>({32, 26, 26, 16}, -1.0f, 1.0f);
    auto [one, two] = on_one_and_two([&] {
        std::vector<xg::Array> out;
        for (xg::Size2 s : {xg::Size2{2, 2}, xg::Size2{1, 1}}) {  // strides 1: overlapping windows
            xg::Tensor tx = xg::parameter(x, "x");
            xg::Tensor m = xg::max_pool2d(tx, {2, 2}, s);
            xg::Tensor a = xg::avg_pool2d(tx, {3, 3}, s, xg::Padding::same);
            (xg::sum(m * m) + xg::sum(a * a)).backward();
            out.insert(out.end(), {m.value(), a.value(), tx.grad()});
        }
        return out;
    });
    check_same(one, two);
}

TEST_CASE("elementwise ops and batch_norm give the same bits on one thread as on two") {
    xt::random::seed(13);
    const xg::Array x = xt::random::rand<float>({64, 12, 12, 32}, -1.0f, 1.0f);
    const xg::Array gamma0 = xt::random::rand<float>({32}, 0.5f, 1.5f);
    const xg::Array beta0 = xt::random::rand<float>({32}, -0.5f, 0.5f);
    auto [one, two] = on_one_and_two([&] {
        std::vector<xg::Array> out;
        xg::Tensor tx = xg::parameter(x, "x");
        xg::Tensor gamma = xg::parameter(gamma0, "gamma");
        xg::Tensor beta = xg::parameter(beta0, "beta");
        xg::Tensor mm = xg::constant(xt::zeros<float>({32})), mv = xg::constant(xt::ones<float>({32}));
        xg::Tensor y = xg::batch_norm(tx, gamma, beta, mm, mv, true, 0.9f, 1e-3f);
        xg::Tensor z = xg::tanh(y) * xg::exp(tx) + xg::relu(tx);
        xg::sum(z * z).backward();
        out.insert(out.end(), {y.value(), z.value(), tx.grad(), gamma.grad(), beta.grad(), mm.value(), mv.value()});
        return out;
    });
    check_same(one, two);
}

TEST_CASE("optimizer updates give the same bits on one thread as on two") {
    xt::random::seed(14);
    const xg::Array w0 = xt::random::rand<float>({300, 400}, -1.0f, 1.0f);
    const xg::Array g0 = xt::random::rand<float>({300, 400}, -1.0f, 1.0f);
    using Make = std::function<std::unique_ptr<xg::Optimizer>(std::vector<xg::Tensor>)>;
    const std::vector<Make> makers = {
        [](std::vector<xg::Tensor> p) { return std::make_unique<xg::RMSprop>(std::move(p)); },
        [](std::vector<xg::Tensor> p) {
            return std::make_unique<xg::RMSprop>(std::move(p), xg::RMSpropOptions{.momentum = 0.5f, .centered = true});
        },
        [](std::vector<xg::Tensor> p) { return std::make_unique<xg::Adam>(std::move(p)); },
        [](std::vector<xg::Tensor> p) { return std::make_unique<xg::SGD>(std::move(p), xg::SGDOptions{.momentum = 0.9f}); },
    };
    auto [one, two] = on_one_and_two([&] {
        std::vector<xg::Array> out;
        for (const Make& make : makers) {
            xg::Tensor w = xg::parameter(w0, "w");
            auto optimizer = make({w});
            for (int step = 0; step < 3; ++step) {
                w.node()->set_grad(g0 * static_cast<float>(step + 1));
                optimizer->step();
            }
            out.push_back(w.value());
        }
        return out;
    });
    check_same(one, two);
}

TEST_CASE("batch gathering gives the same bits on one thread as on two") {
    xg::ByteArray images = xt::zeros<std::uint8_t>({std::size_t{500}, std::size_t{28}, std::size_t{28}});
    xg::ByteArray labels = xt::zeros<std::uint8_t>({std::size_t{500}});
    for (std::size_t i = 0; i < images.size(); ++i) images.data()[i] = static_cast<std::uint8_t>(i * 7 % 256);
    for (std::size_t i = 0; i < labels.size(); ++i) labels(i) = static_cast<std::uint8_t>(i % 10);
    const xg::ImageDataset data(images, labels, 10, true);
    std::vector<std::size_t> rows(256);
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = (i * 37) % 500;
    auto [one, two] = on_one_and_two([&] {
        xg::Array x, y;
        data.gather(rows, x, y);
        return std::vector<xg::Array>{x, y};
    });
    check_same(one, two);
    CHECK(one[0](1, 3) == static_cast<float>((37 * 784 + 3) * 7 % 256) / 255.0f);
    CHECK(one[1](1, 7) == 1.0f);
    Threads t(2);
    rows[200] = 500;
    xg::Array x, y;
    CHECK_THROWS_AS(data.gather(rows, x, y), xg::ShapeError);
}
