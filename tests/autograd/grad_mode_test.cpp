#include "xgrad/autograd/grad_mode.hpp"

#include <cmath>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// Anomaly detection on for a test case, and the tape it leaves cleared.
struct AnomalyCase {
    xg::AnomalyDetectionGuard anomaly;
    ~AnomalyCase() { xg::Tape::current().clear(); }
};

}  // namespace

TEST_CASE("no_grad records nothing") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    CHECK(xg::grad_enabled());
    {
        xg::NoGradGuard no_grad;
        CHECK_FALSE(xg::grad_enabled());
        const xg::Tensor y = xg::sum(xg::relu(w * w + 1.0f));
        CHECK(tape.size() == 0);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.item() == 7.0f);
        CHECK(y.creator() == nullptr);
        CHECK_THROWS_AS(y.backward(), xg::StateError);
    }
    CHECK(xg::grad_enabled());
    const xg::Tensor z = w * w;
    CHECK(z.requires_grad());
    CHECK(tape.size() == 1);
    tape.clear();
}

TEST_CASE("NoGradGuard nests and restores the previous mode") {
    {
        xg::NoGradGuard outer;
        {
            xg::NoGradGuard inner;
            CHECK_FALSE(xg::grad_enabled());
        }
        CHECK_FALSE(xg::grad_enabled());
    }
    CHECK(xg::grad_enabled());
}

TEST_CASE("no_grad is per thread") {
    xg::NoGradGuard no_grad;
    bool other_thread_records = false;
    std::thread worker([&] {
        const xg::Tensor w = xg::parameter(xg::Array{1.0f}, "w");
        other_thread_records = xg::grad_enabled() && (w * 2.0f).requires_grad();
        xg::Tape::current().clear();
    });
    worker.join();
    CHECK(other_thread_records);
    CHECK_FALSE(xg::grad_enabled());
}

TEST_CASE("a result computed under no_grad stops gradients like a constant") {
    const xg::Tensor w = xg::parameter(xg::Array{1.0f, 2.0f}, "w");
    xg::Tensor frozen;
    {
        xg::NoGradGuard no_grad;
        frozen = w * 10.0f;
    }
    xg::sum(frozen * w).backward();
    CHECK(w.grad() == xg::Array{10.0f, 20.0f});
}

TEST_CASE("anomaly detection is off by default and leaves NaN and Inf alone") {
    CHECK_FALSE(xg::anomaly_detection_enabled());
    const xg::Tensor x = xg::parameter(xg::Array{0.0f, 1.0f}, "x");
    const xg::Tensor y = xg::log(x);
    CHECK(std::isinf(y.value()(0)));
    xg::Tape::current().clear();
}

TEST_CASE("anomaly detection names the op whose output is not finite") {
    const AnomalyCase anomaly;
    CHECK(xg::anomaly_detection_enabled());
    const xg::Tensor x = xg::parameter(xg::Array{0.0f, 1.0f}, "x");
    CHECK_THROWS_WITH_AS(xg::log(x), doctest::Contains("op 'log' produced NaN or Inf in its output (2,)"),
                         xg::NumericError);
    // Finite values pass through untouched.
    CHECK(xg::log(x + 1.0f).value()(0) == 0.0f);
}

TEST_CASE("anomaly detection names the op whose gradient is not finite, and its scope") {
    const AnomalyCase anomaly;
    // sqrt(0) = 0 is fine forward, but d sqrt(x)/dx = 1 / (2 sqrt(x)) is infinite there.
    const xg::Tensor x = xg::parameter(xg::Array{0.0f, 4.0f}, "x");
    xg::Tensor y;
    {
        xg::ScopeGuard scope("encoder");
        y = xg::sum(xg::sqrt(x));
    }
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("backward of op 'sqrt' in encoder produced NaN or Inf"),
                         xg::NumericError);
}

TEST_CASE("AnomalyDetectionGuard turns detection on or off for its scope and restores what was before") {
    REQUIRE_FALSE(xg::anomaly_detection_enabled());
    {
        const xg::AnomalyDetectionGuard outer;
        CHECK(xg::anomaly_detection_enabled());
        {
            const xg::AnomalyDetectionGuard inner(false);
            CHECK_FALSE(xg::anomaly_detection_enabled());
        }
        CHECK(xg::anomaly_detection_enabled());
        try {
            const xg::AnomalyDetectionGuard inner(false);
            throw std::runtime_error("leaving the scope by an exception");
        } catch (const std::runtime_error&) {
        }
        CHECK(xg::anomaly_detection_enabled());
    }
    CHECK_FALSE(xg::anomaly_detection_enabled());
}

TEST_CASE("anomaly detection is per thread") {
    const AnomalyCase anomaly;
    bool other_thread_checks = true;
    std::thread worker([&] { other_thread_checks = xg::anomaly_detection_enabled(); });
    worker.join();
    CHECK_FALSE(other_thread_checks);
}
