// Metrics: accuracy of each kind over several batches, reset, errors, lookup by name, Mean.
#include "xgrad/train/metric.hpp"

#include <algorithm>
#include <initializer_list>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/core/error.hpp"

namespace {

// An (n, 1) column: brace lists of one-element rows are ambiguous to xtensor.
xg::Array column(std::initializer_list<float> values) {
    xg::Array a = xg::uninitialized({values.size(), 1});
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

}  // namespace

TEST_CASE("categorical accuracy compares argmax of predictions and one-hot targets, over batches") {
    xg::Accuracy acc(xg::AccuracyKind::categorical);
    CHECK(acc.name() == "accuracy");
    CHECK(acc.result() == 0.0);
    acc.update({{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}}, {{0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}});
    CHECK(acc.result() == 0.5);
    acc.update({{0.2f, 0.2f, 0.6f}}, {{0.0f, 0.0f, 1.0f}});
    CHECK(acc.result() == doctest::Approx(2.0 / 3.0));
    // Ties go to the first maximum, as numpy's argmax does.
    acc.update({{0.4f, 0.4f, 0.2f}}, {{1.0f, 0.0f, 0.0f}});
    CHECK(acc.result() == doctest::Approx(3.0 / 4.0));
    acc.reset();
    CHECK(acc.result() == 0.0);
    acc.update({{0.4f, 0.4f, 0.2f}}, {{0.0f, 1.0f, 0.0f}});
    CHECK(acc.result() == 0.0);
}

TEST_CASE("sparse accuracy compares argmax with integer labels") {
    xg::Accuracy acc(xg::AccuracyKind::sparse, "sparse_categorical_accuracy");
    CHECK(acc.name() == "sparse_categorical_accuracy");
    acc.update({{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}, {0.1f, 0.1f, 0.8f}}, {1.0f, 2.0f, 2.0f});
    CHECK(acc.result() == doctest::Approx(2.0 / 3.0));
}

TEST_CASE("binary accuracy thresholds predictions at 0.5, element by element") {
    xg::Accuracy acc(xg::AccuracyKind::binary);
    acc.update(column({0.9f, 0.5f, 0.51f, 0.1f}), column({1.0f, 1.0f, 1.0f, 0.0f}));
    CHECK(acc.result() == doctest::Approx(3.0 / 4.0));  // 0.5 counts as class 0
    acc.reset();
    acc.update({{0.9f, 0.2f}, {0.3f, 0.7f}}, {{1.0f, 1.0f}, {0.0f, 1.0f}});
    CHECK(acc.result() == doctest::Approx(3.0 / 4.0));
}

TEST_CASE("accuracy rejects predictions and targets that do not pair up") {
    xg::Accuracy cat(xg::AccuracyKind::categorical);
    CHECK_THROWS_AS(cat.update({{0.1f, 0.9f}}, {{0.0f, 1.0f}, {1.0f, 0.0f}}), xg::ShapeError);
    CHECK_THROWS_AS(cat.update({{0.1f, 0.9f}}, {{0.0f, 1.0f, 0.0f}}), xg::ShapeError);
    xg::Accuracy bin(xg::AccuracyKind::binary);
    CHECK_THROWS_AS(bin.update({{0.1f, 0.9f}}, column({0.0f})), xg::ShapeError);
    CHECK(cat.result() == 0.0);
}

TEST_CASE("metric_by_name picks accuracy's kind from the loss, as Keras does") {
    const xg::Array two_class = {{0.2f, 0.8f}};
    auto categorical = xg::metric_by_name("accuracy", "categorical_crossentropy");
    categorical->update(two_class, {{0.0f, 1.0f}});
    CHECK(categorical->result() == 1.0);
    CHECK(categorical->name() == "accuracy");

    auto sparse = xg::metric_by_name("accuracy", "sparse_categorical_crossentropy");
    sparse->update(two_class, {1.0f});
    CHECK(sparse->result() == 1.0);

    auto binary = xg::metric_by_name("acc", "binary_crossentropy");
    CHECK(binary->name() == "acc");
    binary->update(column({0.7f, 0.2f}), column({1.0f, 1.0f}));
    CHECK(binary->result() == 0.5);

    auto explicit_kind = xg::metric_by_name("binary_accuracy", "mean_squared_error");
    explicit_kind->update(column({0.7f}), column({1.0f}));
    CHECK(explicit_kind->result() == 1.0);
    CHECK(xg::metric_by_name("categorical_accuracy", "mse")->name() == "categorical_accuracy");
    CHECK(xg::metric_by_name("sparse_categorical_accuracy", "mse")->name() == "sparse_categorical_accuracy");
    const std::string unknown = "metric_by_name: unknown metric 'precision'; expected accuracy, categorical_accuracy, "
                                "sparse_categorical_accuracy, binary_accuracy or a loss's name: " + xg::loss_names();
    CHECK_THROWS_WITH_AS(xg::metric_by_name("precision", "binary_crossentropy"), unknown.c_str(), xg::ValueError);
}

TEST_CASE("Mean is a weighted running mean") {
    xg::Mean m;
    CHECK(m.result() == 0.0);
    m.add(1.0, 3.0);
    m.add(2.0, 1.0);
    CHECK(m.result() == doctest::Approx(1.25));
    m.reset();
    CHECK(m.result() == 0.0);
}

TEST_CASE("a loss's name is a metric: its mean over every sample added, batch by batch") {
    const xg::Array p = {{1.0f, 2.0f}, {0.5f, -1.0f}, {3.0f, 0.0f}};
    const xg::Array y = {{0.0f, 2.5f}, {0.5f, 1.0f}, {1.0f, 1.0f}};
    auto mae = xg::metric_by_name("mae", "mse");
    CHECK(mae->name() == "mae");
    // Batches of 1 and 2 rows: weighted by rows, the result is the mean over all three.
    mae->update(xt::view(p, xt::range(0, 1), xt::all()), xt::view(y, xt::range(0, 1), xt::all()));
    mae->update(xt::view(p, xt::range(1, 3), xt::all()), xt::view(y, xt::range(1, 3), xt::all()));
    CHECK(mae->result() == doctest::Approx((1.0 + 0.5 + 0.0 + 2.0 + 2.0 + 1.0) / 6.0));
    mae->reset();
    CHECK(mae->result() == 0.0);
    auto mse = xg::metric_by_name("mean_squared_error", "mae");
    mse->update(p, y);
    CHECK(mse->result() == doctest::Approx((1.0 + 0.25 + 0.0 + 4.0 + 4.0 + 1.0) / 6.0));
    // Keras's cosine_similarity metric is the similarity, the loss its negative.
    auto cosine = xg::metric_by_name("cosine_similarity", "mse");
    cosine->update(xg::Array{{1.0f, 0.0f}, {1.0f, 0.0f}, {1.0f, 0.0f}}, xg::Array{{2.0f, 0.0f}, {0.0f, 3.0f}, {-1.0f, 0.0f}});
    CHECK(cosine->result() == doctest::Approx((1.0 + 0.0 - 1.0) / 3.0));
    CHECK_THROWS_AS(xg::LossMetric("none", nullptr), xg::ValueError);
}

TEST_CASE("a loss metric takes targets (n,) for predictions (n, 1), and names itself when shapes do not pair up") {
    auto mae = xg::metric_by_name("mae", "mse");
    mae->update(column({1.0f, 2.0f}), xg::Array{0.5f, 3.0f});
    CHECK(mae->result() == doctest::Approx(0.75));
    CHECK_THROWS_WITH_AS(mae->update(column({1.0f, 2.0f}), xg::Array{0.5f, 3.0f, 1.0f}),
                         doctest::Contains("metric 'mae': mean_absolute_error: predictions have shape (2, 1), targets (3,)"),
                         xg::ShapeError);
    // A label out of range for sparse_categorical_crossentropy: the metric names itself too.
    auto sparse = xg::metric_by_name("sparse_categorical_crossentropy", "mse");
    CHECK_THROWS_WITH_AS(sparse->update(xg::Array{{0.2f, 0.8f}}, xg::Array{5.0f}), doctest::Contains("metric 'sparse_categorical_crossentropy': "),
                         xg::ValueError);
}

TEST_CASE("accuracy after a loss that is not a crossentropy is binary for one output per sample, as in Keras") {
    // bce is binary_crossentropy: binary accuracy, not argmax over one column (always right).
    auto bce = xg::metric_by_name("accuracy", "bce");
    bce->update(column({0.7f, 0.2f}), xg::Array{1.0f, 1.0f});
    CHECK(bce->result() == 0.5);
    auto mse = xg::metric_by_name("accuracy", "mse");
    mse->update(column({0.7f, 0.2f, 0.9f}), column({1.0f, 1.0f, 0.0f}));
    CHECK(mse->result() == doctest::Approx(1.0 / 3.0));
    auto wide = xg::metric_by_name("accuracy", "hinge");
    wide->update(xg::Array{{0.2f, 0.8f}, {0.9f, 0.1f}}, xg::Array{{0.0f, 1.0f}, {0.0f, 1.0f}});
    CHECK(wide->result() == 0.5);
    // Sparse labels must be one per sample.
    auto sparse = xg::metric_by_name("accuracy", "sparse_categorical_crossentropy");
    CHECK_THROWS_AS(sparse->update(xg::Array{{0.2f, 0.8f}, {0.9f, 0.1f}}, xg::Array{1.0f}), xg::ShapeError);
}
