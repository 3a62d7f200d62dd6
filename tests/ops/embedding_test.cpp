// Tests for lib/xgrad/ops/embedding.cpp: embedding_lookup's rows, its gradient (rows added where
// an id repeats, none for the ids), first and second order checks, errors, no ids.
#include <cmath>
#include <limits>
#include <vector>

#include <doctest/doctest.h>

#include "second_order.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace {

const xg::Array table = {{0.5f, -1.0f, 2.0f}, {1.5f, 0.25f, -0.5f}, {-2.0f, 3.0f, 1.0f}, {0.0f, 0.75f, -1.25f}};

}  // namespace

TEST_CASE("embedding_lookup picks the rows the ids name, for ids of any shape, recorded under its name") {
    xg::Tape& tape = xg::Tape::current();
    tape.clear();
    const xg::Tensor t = xg::parameter(table, "table");
    const xg::Array ids = {{2.0f, 0.0f, 2.0f}, {3.0f, 1.0f, 0.0f}};
    const xg::Tensor y = xg::embedding_lookup(t, xg::input(ids));
    REQUIRE(y.shape() == xg::Shape{2, 3, 3});
    for (std::size_t b = 0; b < 2; ++b) {
        for (std::size_t s = 0; s < 3; ++s) {
            for (std::size_t j = 0; j < 3; ++j) CHECK(y.value()(b, s, j) == table(static_cast<std::size_t>(ids(b, s)), j));
        }
    }
    REQUIRE(tape.size() == 1);
    CHECK(tape[0].op == "embedding_lookup");
    // One id alone: its row.
    CHECK(xg::embedding_lookup(t, xg::Tensor::scalar(1.0f)).value() == xg::Array{1.5f, 0.25f, -0.5f});
    tape.clear();
}

TEST_CASE("embedding_lookup's gradient adds each id's gradient into its row, twice for an id seen twice, and none to the ids") {
    const xg::Tensor t = xg::parameter(table, "table");
    const xg::Tensor ids = xg::parameter(xg::Array{2.0f, 0.0f, 2.0f}, "ids");
    const xg::Array weights = {{1.0f, 2.0f, 3.0f}, {-1.0f, 0.5f, 0.0f}, {4.0f, -2.0f, 1.0f}};
    xg::sum(xg::embedding_lookup(t, ids) * xg::constant(weights)).backward();
    CHECK(t.grad() == xg::Array{{-1.0f, 0.5f, 0.0f}, {0.0f, 0.0f, 0.0f}, {5.0f, 0.0f, 4.0f}, {0.0f, 0.0f, 0.0f}});
    CHECK_FALSE(ids.has_grad());
    // gradcheck and gradgradcheck over the table, the ids fixed (repeats included).
    const xg::Tensor fixed = xg::input(xg::Array{{3.0f, 1.0f}, {1.0f, 1.0f}});
    auto f = [fixed](const std::vector<xg::Tensor>& in) { return xg::embedding_lookup(in[0], fixed); };
    const auto first = xg::gradcheck(f, {table});
    CHECK_MESSAGE(first.passed, first.report());
    xg::test::check_second_order(f, {table});
    xg::Tape::current().clear();
}

TEST_CASE("embedding_lookup refuses ids that are not rows and a table that is not a matrix, naming them") {
    const xg::Tensor t = xg::input(table);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(xg::embedding_lookup(t, xg::input(xg::Array{1.0f, 4.0f})),
                         "embedding_lookup: id 4 (element 1 of ids (2,)); expected a whole number from 0 to 3", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::embedding_lookup(t, xg::input(xg::Array{-1.0f})), doctest::Contains("id -1 (element 0"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::embedding_lookup(t, xg::input(xg::Array{0.5f})), doctest::Contains("id 0.5 (element 0"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::embedding_lookup(t, xg::input(xg::Array{nan})), doctest::Contains("id nan (element 0"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::embedding_lookup(xg::input(xt::zeros<float>({0, 3})), xg::input(xg::Array{0.0f})),
                         "embedding_lookup: table (0, 3) has no rows; expected at least one for ids (1,)", xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::embedding_lookup(xg::input(xg::Array{1.0f, 2.0f}), xg::input(xg::Array{0.0f})),
                         "embedding_lookup: table (2,); expected (rows, width)", xg::ShapeError);
    // No ids: no rows, and a gradient of zeros for the table.
    const xg::Tensor learned = xg::parameter(table, "table");
    const xg::Tensor none = xg::embedding_lookup(learned, xg::input(xt::zeros<float>({0, 5})));
    CHECK(none.shape() == xg::Shape{0, 5, 3});
    xg::sum(none).backward();
    CHECK(learned.grad() == xg::Array(xt::zeros<float>({4, 3})));
}
