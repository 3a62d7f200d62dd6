#include "xgrad/autograd/gradcheck.hpp"

#include <doctest/doctest.h>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

// a * b with a deliberately wrong rule for b: it forgets to multiply by a.
xg::Tensor buggy_mul(const xg::Tensor& a, const xg::Tensor& b) {
    return xg::record_op("buggy_mul", {a, b}, a.value() * b.value(), [](xg::GradientContext& ctx) {
        ctx.accumulate(0, ctx.grad() * ctx.input(1));
        ctx.accumulate(1, ctx.grad());
    });
}

const xg::Array a_value = {{0.5f, -1.5f, 2.0f, 0.25f}, {1.0f, 3.0f, -0.5f, -2.0f}, {0.75f, 1.25f, -1.0f, 2.5f}};
const xg::Array b_value = {{1.5f, 0.5f, -2.0f, 1.0f}, {-1.0f, 0.25f, 2.0f, 3.0f}, {0.5f, -0.75f, 1.5f, -1.25f}};

}  // namespace

TEST_CASE("gradcheck passes a correct rule and reports every input") {
    const auto result = xg::gradcheck([](const std::vector<xg::Tensor>& x) { return x[0] * x[1]; }, {a_value, b_value});
    CHECK_MESSAGE(result.passed, result.report());
    REQUIRE(result.worst_error.size() == 2);
    CHECK(result.worst_error[0] < 1e-3);
    CHECK(result.worst_error[1] < 1e-3);
    CHECK(result.tolerance == 1e-2);
    const std::string report = result.report();
    CHECK(report.find("input 0 (3, 4): worst error") != std::string::npos);
    CHECK(report.find("input 1 (3, 4): worst error") != std::string::npos);
    CHECK(report.find("above tolerance") == std::string::npos);
}

TEST_CASE("gradcheck catches a wrong backward rule and says which input") {
    const auto result =
        xg::gradcheck([](const std::vector<xg::Tensor>& x) { return buggy_mul(x[0], x[1]); }, {a_value, b_value});
    CHECK_FALSE(result.passed);
    REQUIRE(result.worst_error.size() == 2);
    CHECK(result.worst_error[0] <= result.tolerance);
    CHECK(result.worst_error[1] > result.tolerance);
    const std::string report = result.report();
    CHECK(report.find("input 0 (3, 4): worst error") != std::string::npos);
    CHECK(report.find("input 1 (3, 4): worst error") != std::string::npos);
    CHECK(report.find("above tolerance") != std::string::npos);
    CHECK(report.find("input 1 (3, 4): worst error") < report.find("above tolerance"));
}

TEST_CASE("gradcheck checks every element of a non-scalar output") {
    // A rule that is right everywhere except for one output element.
    auto off_by_one_element = [](const std::vector<xg::Tensor>& x) {
        return xg::record_op("almost_identity", {x[0]}, x[0].value(), [](xg::GradientContext& ctx) {
            xg::Array g = ctx.grad();
            g(1, 2) = 0.0f;
            ctx.accumulate(0, std::move(g));
        });
    };
    const auto result = xg::gradcheck(off_by_one_element, {a_value});
    CHECK_FALSE(result.passed);
}

TEST_CASE("gradcheck gives an input the function ignores a zero error") {
    const auto result = xg::gradcheck([](const std::vector<xg::Tensor>& x) { return xg::sum(xg::exp(x[0])); },
                                      {xg::Array{0.1f, -0.3f}, xg::Array{5.0f}});
    CHECK(result.passed);
    REQUIRE(result.worst_error.size() == 2);
    CHECK(result.worst_error[1] == 0.0);
}

TEST_CASE("gradcheck options change the tolerance") {
    xg::GradcheckOptions strict;
    strict.tolerance = 0.0;
    const auto result =
        xg::gradcheck([](const std::vector<xg::Tensor>& x) { return xg::exp(x[0]); }, {a_value}, strict);
    CHECK_FALSE(result.passed);
    CHECK(result.tolerance == 0.0);
}

TEST_CASE("gradcheck of a function that does not use its inputs is a ValueError") {
    auto constant_output = [](const std::vector<xg::Tensor>&) { return xg::constant(xg::scalar_array(1.0f)); };
    CHECK_THROWS_AS(xg::gradcheck(constant_output, {a_value}), xg::ValueError);
    xg::Tape::current().clear();
}

TEST_CASE("gradcheck leaves the tape empty") {
    xg::Tape::current().clear();
    xg::gradcheck([](const std::vector<xg::Tensor>& x) { return xg::tanh(x[0]); }, {a_value});
    CHECK(xg::Tape::current().size() == 0);
}

namespace {

// cube(x) = x^3 with a correct array rule and a differentiable rule that is `wrong` or not:
// 3 g x^2 as it should be, or 3 g x (right value at x = 1 only, wrong second derivative).
xg::Tensor cube(const xg::Tensor& x, bool wrong) {
    return xg::record_op("cube", {x}, x.value() * x.value() * x.value(), [](xg::GradientContext& ctx) {
        const xg::Array& v = ctx.input(0);
        ctx.accumulate(0, 3.0f * ctx.grad() * v * v);
    }, [wrong](xg::TensorGradientContext& ctx) {
        const xg::Tensor& v = ctx.input(0);
        ctx.accumulate(0, wrong ? 3.0f * ctx.grad() * v : 3.0f * ctx.grad() * v * v);
    });
}

}  // namespace

TEST_CASE("gradgradcheck passes a right differentiable rule and fails a wrong one") {
    const xg::Array x{{0.5f, -1.5f, 2.0f}, {1.2f, -0.4f, 0.9f}};
    const auto right = xg::gradgradcheck([](const std::vector<xg::Tensor>& in) { return cube(in[0], false); }, {x});
    CHECK_MESSAGE(right.passed, right.report());
    const auto wrong = xg::gradgradcheck([](const std::vector<xg::Tensor>& in) { return cube(in[0], true); }, {x});
    CHECK_FALSE(wrong.passed);
    CHECK(xg::Tape::current().size() == 0);
}

TEST_CASE("gradgradcheck checks the mixed second derivatives of several inputs") {
    // f(a, b) = a * b^2 (broadcast): d2f/da db = 2 b, d2f/db2 = 2 a, d2f/da2 = 0
    const auto result = xg::gradgradcheck([](const std::vector<xg::Tensor>& in) { return in[0] * in[1] * in[1]; },
                                          {xg::Array{{0.5f, -1.0f}}, xg::Array{{0.3f, 1.2f}, {-0.7f, 0.4f}, {0.9f, -1.1f}}});
    CHECK_MESSAGE(result.passed, result.report());
    REQUIRE(result.worst_error.size() == 2);
}

TEST_CASE("gradgradcheck of a function that does not use its inputs is a ValueError") {
    auto constant_output = [](const std::vector<xg::Tensor>&) { return xg::constant(xg::scalar_array(1.0f)); };
    CHECK_THROWS_AS(xg::gradgradcheck(constant_output, {a_value}), xg::ValueError);
    xg::Tape::current().clear();
}
