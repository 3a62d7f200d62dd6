// Metrics: accuracy of each kind (top-k too) over several batches, reset, errors, lookup by name,
// Mean, and the sums data-parallel training adds up.
#include "xgrad/train/metric.hpp"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "column.hpp"
#include "xgrad/core/error.hpp"

namespace {

using xg::test::column;

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

TEST_CASE("accuracy counts a prediction per position of (batch, steps, classes), as Keras's") {
    // Two sequences of two steps, three classes: argmaxes 1, 0 | 2, 2.
    const xg::Array p = {{{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}}, {{0.1f, 0.1f, 0.8f}, {0.2f, 0.3f, 0.5f}}};
    xg::Accuracy sparse(xg::AccuracyKind::sparse);
    sparse.update(p, {{1.0f, 2.0f}, {2.0f, 2.0f}});
    CHECK(sparse.result() == doctest::Approx(3.0 / 4.0));
    xg::Accuracy categorical(xg::AccuracyKind::categorical);
    categorical.update(p, {{{0.0f, 1.0f, 0.0f}, {0.0f, 0.0f, 1.0f}}, {{0.0f, 0.0f, 1.0f}, {1.0f, 0.0f, 0.0f}}});
    CHECK(categorical.result() == doctest::Approx(2.0 / 4.0));
    // By width: one output per step is a yes/no.
    xg::Accuracy by_width(xg::AccuracyKind::by_width);
    by_width.update(xt::reshape_view(column({0.9f, 0.2f, 0.6f, 0.4f}), {2, 2, 1}),
                    xt::reshape_view(column({1.0f, 1.0f, 1.0f, 0.0f}), {2, 2, 1}));
    CHECK(by_width.result() == doctest::Approx(3.0 / 4.0));
    CHECK_THROWS_WITH_AS(sparse.update(p, {1.0f, 2.0f}), doctest::Contains("expected one label per prediction"),
                         xg::ShapeError);
    // Top-k ranks each position too: label 0 is second at (0, 0) and (1, 1), last at (1, 0).
    xg::TopKAccuracy top2(2, true);
    top2.update(p, {{0.0f, 1.0f}, {0.0f, 1.0f}});
    CHECK(top2.result() == doctest::Approx(3.0 / 4.0));
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
    const std::string unknown = "metric_by_name: unknown metric 'f1_score'; expected accuracy, categorical_accuracy, "
                                "sparse_categorical_accuracy, binary_accuracy, top_k_categorical_accuracy, "
                                "sparse_top_k_categorical_accuracy, precision, recall, auc or a loss's name: " +
                                xg::loss_names();
    CHECK_THROWS_WITH_AS(xg::metric_by_name("f1_score", "binary_crossentropy"), unknown.c_str(), xg::ValueError);
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

TEST_CASE("top-k accuracy counts a sample right when its target is among the k highest, ties with the k-th included") {
    // Targets: class 2, 0, 3, 1. Row 0: the target is the highest; row 1: third; row 2: tied
    // for second with class 1; row 3: last.
    const xg::Array pred = {{0.1f, 0.2f, 0.6f, 0.1f}, {0.3f, 0.4f, 0.1f, 0.35f}, {0.1f, 0.3f, 0.9f, 0.3f}, {0.4f, 0.0f, 0.3f, 0.3f}};
    const xg::Array one_hot = {{0, 0, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {0, 1, 0, 0}};
    const xg::Array labels = {2.0f, 0.0f, 3.0f, 1.0f};
    for (const auto& [k, right] : std::initializer_list<std::pair<std::size_t, double>>{{1, 1}, {2, 2}, {3, 3}, {4, 4}}) {
        CAPTURE(k);
        xg::TopKAccuracy categorical(k), sparse(k, true);
        categorical.update(pred, one_hot);
        sparse.update(pred, labels);
        CHECK(categorical.result() == right / 4);
        CHECK(sparse.result() == right / 4);
    }
    // Keras's names and default k.
    auto named = xg::metric_by_name("top_k_categorical_accuracy", "categorical_crossentropy");
    CHECK(named->name() == "top_k_categorical_accuracy");
    CHECK(dynamic_cast<xg::TopKAccuracy&>(*named).k() == 5);
    auto sparse_named = xg::metric_by_name("sparse_top_k_categorical_accuracy", "sparse_categorical_crossentropy");
    sparse_named->update(pred, labels);
    CHECK(sparse_named->result() == 1.0);
    // Over batches, and reset.
    xg::TopKAccuracy top2(2);
    top2.update(xt::view(pred, xt::range(0, 1)), xt::view(one_hot, xt::range(0, 1)));
    top2.update(xt::view(pred, xt::range(1, 4)), xt::view(one_hot, xt::range(1, 4)));
    CHECK(top2.result() == 0.5);
    top2.reset();
    CHECK(top2.result() == 0.0);
}

TEST_CASE("top-k accuracy counts a row with a NaN or an infinity as wrong and refuses bad k, shapes and labels, naming them") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    xg::TopKAccuracy top2(2, true);
    top2.update(xg::Array{{nan, 0.1f, 0.2f}, {0.5f, 0.1f, 0.2f}, {inf, 0.1f, 0.2f}, {0.3f, -inf, 0.2f}},
                xg::Array{2.0f, 0.0f, 0.0f, 0.0f});
    CHECK(top2.result() == 0.25);
    CHECK_THROWS_WITH_AS(top2.update(xg::Array(xt::zeros<float>({2, 0})), xg::Array{0.0f, 0.0f}),
                         "sparse_top_k_categorical_accuracy: predictions (2, 0); expected at least one class", xg::ShapeError);
    CHECK_THROWS_WITH_AS(xg::TopKAccuracy(0), "top_k_categorical_accuracy: k 0; expected at least 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(top2.update(xg::Array{{0.5f, 0.1f, 0.2f}}, xg::Array{3.0f}),
                         "sparse_top_k_categorical_accuracy: label 3 in row 0; expected a class from 0 to 2", xg::ValueError);
    CHECK_THROWS_WITH_AS(top2.update(xg::Array{{0.5f, 0.1f, 0.2f}}, xg::Array{0.5f}), doctest::Contains("label 0.5 in row 0"),
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(top2.update(xg::Array{0.5f, 0.1f}, xg::Array{1.0f, 0.0f}),
                         doctest::Contains("predictions (2,) and targets (2,); expected predictions (batch, classes)"),
                         xg::ShapeError);
    xg::TopKAccuracy categorical(2);
    CHECK_THROWS_WITH_AS(categorical.update(xg::Array{{0.5f, 0.1f, 0.2f}}, xg::Array{{1.0f, 0.0f}}),
                         doctest::Contains("expected one-hot targets of the predictions' shape"), xg::ShapeError);
}

TEST_CASE("a metric's sums hold its state: set onto a fresh one, the same result; a wrong length is refused") {
    xg::Accuracy accuracy(xg::AccuracyKind::binary);
    accuracy.update(column({0.9f, 0.2f, 0.7f}), column({1.0f, 1.0f, 0.0f}));
    CHECK(accuracy.sums() == std::vector<double>{1.0, 3.0});
    xg::Accuracy other(xg::AccuracyKind::binary);
    // Another process's counts added: 3 right of 5 in all.
    const std::vector<double> added{accuracy.sums()[0] + 2.0, accuracy.sums()[1] + 2.0};
    other.set_sums(added);
    CHECK(other.result() == 0.6);
    auto mae = xg::metric_by_name("mae", "mse");
    mae->update(column({1.0f, 2.0f}), column({0.0f, 0.0f}));
    CHECK(mae->sums() == std::vector<double>{3.0, 2.0});
    CHECK_THROWS_WITH_AS(other.set_sums(std::vector<double>{1.0}), "metric 'accuracy': set_sums given 1 number; expected 2",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(mae->set_sums(std::vector<double>{1.0, 2.0, 3.0}), "metric 'mae': set_sums given 3 numbers; expected 2",
                         xg::ValueError);
    // A metric of one's own that gives sums must take them back: the default refuses.
    struct Forgetful : xg::Metric {
        Forgetful() : xg::Metric("forgetful") {}
        void reset() override {}
        void update(const xg::Array&, const xg::Array&) override {}
        double result() const override { return 0.0; }
        std::vector<double> sums() const override { return {1.0}; }
    } forgetful;
    CHECK_THROWS_WITH_AS(forgetful.set_sums(std::vector<double>{2.0}),
                         "metric 'forgetful': set_sums is not overridden; a metric that gives sums() must take them back",
                         xg::StateError);
    // One without sums takes back none.
    struct Plain : xg::Metric {
        Plain() : xg::Metric("plain") {}
        void reset() override {}
        void update(const xg::Array&, const xg::Array&) override {}
        double result() const override { return 0.0; }
    } plain;
    CHECK_NOTHROW(plain.set_sums({}));
    xg::Mean mean;
    CHECK_THROWS_WITH_AS(mean.set_sums(std::vector<double>{1.0}), "Mean: set_sums given 1 number(s); expected 2", xg::ValueError);
    // Accuracy over predictions of no classes: an error, not every row right.
    xg::Accuracy categorical(xg::AccuracyKind::categorical);
    CHECK_THROWS_WITH_AS(categorical.update(xg::Array(xt::zeros<float>({2, 0})), xg::Array(xt::zeros<float>({2, 0}))),
                         "accuracy: predictions (2, 0); expected at least one class", xg::ShapeError);
}
