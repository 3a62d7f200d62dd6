// Precision, Recall and AUC: Keras's documented examples, the exact area where the counts are
// exact, logits, batches, sums, names, and errors.
#include "xgrad/train/confusion_metrics.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/core/error.hpp"

namespace {

// The exact area under the ROC curve: the fraction of (positive, negative) pairs ordered
// rightly, ties counting a half (the Mann-Whitney statistic).
double exact_auc(const std::vector<float>& pred, const std::vector<float>& target) {
    double right = 0.0, pairs = 0.0;
    for (std::size_t i = 0; i < pred.size(); ++i) {
        for (std::size_t j = 0; j < pred.size(); ++j) {
            if (target[i] == 1.0f && target[j] == 0.0f) {
                pairs += 1.0;
                right += pred[i] > pred[j] ? 1.0 : pred[i] == pred[j] ? 0.5 : 0.0;
            }
        }
    }
    return right / pairs;
}

xg::Array array_of(const std::vector<float>& v) {
    xg::Array a = xg::uninitialized({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

}  // namespace

TEST_CASE("precision and recall give Keras's documented values, over batches, and 0 with nothing to count") {
    // keras.metrics.Precision().update_state([0, 1, 1, 1], [1, 0, 1, 1]) -> 2/3, Recall the same.
    xg::Precision precision;
    xg::Recall recall;
    const xg::Array target = {0.0f, 1.0f, 1.0f, 1.0f}, pred = {1.0f, 0.0f, 1.0f, 1.0f};
    precision.update(pred, target);
    recall.update(pred, target);
    CHECK(precision.result() == doctest::Approx(2.0 / 3.0));
    CHECK(recall.result() == doctest::Approx(2.0 / 3.0));
    // Another batch, (n, 1): two more true positives, a false negative.
    const xg::Array more_pred = xt::reshape_view(xg::Array{0.9f, 0.6f, 0.2f}, {3, 1});
    const xg::Array more_target = xt::ones<float>({3, 1});
    precision.update(more_pred, more_target);
    recall.update(more_pred, more_target);
    CHECK(precision.result() == doctest::Approx(4.0 / 5.0));
    CHECK(recall.result() == doctest::Approx(4.0 / 6.0));
    // The threshold: 0.5 by default, strictly above.
    xg::Precision low(0.1f);
    low.update(xg::Array{0.5f, 0.2f, 0.05f}, xg::Array{0.0f, 1.0f, 1.0f});
    CHECK(low.result() == 0.5);
    xg::Recall at_half;
    at_half.update(xg::Array{0.5f}, xg::Array{1.0f});
    CHECK(at_half.result() == 0.0);
    precision.reset();
    CHECK(precision.result() == 0.0);
    precision.update(xg::Array{0.1f, 0.2f}, xg::Array{1.0f, 0.0f});  // nothing predicted positive
    CHECK(precision.result() == 0.0);
}

TEST_CASE("AUC gives Keras's documented value, and the exact area when the predictions in each threshold interval are equal") {
    // keras.metrics.AUC(num_thresholds=3).update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9]) -> 0.75.
    xg::AUC three({.num_thresholds = 3});
    three.update(xg::Array{0.0f, 0.5f, 0.3f, 0.9f}, xg::Array{0.0f, 0.0f, 1.0f, 1.0f});
    CHECK(three.result() == doctest::Approx(0.75));
    // Predictions at the middles of the 199 intervals of the default thresholds: the counts are
    // those of every possible threshold, so the area is exact (equal predictions tie).
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> interval(0, 198);
    std::bernoulli_distribution coin(0.4);
    std::vector<float> pred(300), target(300);
    for (std::size_t i = 0; i < pred.size(); ++i) {
        target[i] = coin(rng) ? 1.0f : 0.0f;
        // Informative but imperfect: positives lean high.
        const int j = std::min(198, interval(rng) / (target[i] == 1.0f ? 1 : 2) + (target[i] == 1.0f ? 20 : 0));
        pred[i] = (static_cast<float>(j) + 0.5f) / 199.0f;
    }
    xg::AUC auc;
    auc.update(xt::view(array_of(pred), xt::range(0, 100)), xt::view(array_of(target), xt::range(0, 100)));
    auc.update(xt::view(array_of(pred), xt::range(100, 300)), xt::view(array_of(target), xt::range(100, 300)));
    const double exact = exact_auc(pred, target);
    CHECK(exact > 0.6);
    CHECK(exact < 0.99);
    CHECK(auc.result() == doctest::Approx(exact).epsilon(1e-12));
    // The corners: a perfect ranking, the reverse, and one value for all.
    xg::AUC perfect, reverse, constant;
    const xg::Array labels = {0.0f, 1.0f, 0.0f, 1.0f};
    perfect.update(xg::Array{0.1f, 0.8f, 0.3f, 0.9f}, labels);
    reverse.update(xg::Array{0.9f, 0.2f, 0.8f, 0.1f}, labels);
    constant.update(xg::Array{0.5f, 0.5f, 0.5f, 0.5f}, labels);
    CHECK(perfect.result() == 1.0);
    CHECK(reverse.result() == 0.0);
    CHECK(constant.result() == 0.5);
    // Predictions of exactly 0 and 1 fall inside the end thresholds.
    xg::AUC ends;
    ends.update(xg::Array{0.0f, 1.0f}, xg::Array{0.0f, 1.0f});
    CHECK(ends.result() == 1.0);
}

TEST_CASE("AUC from logits is AUC of their sigmoids; a prediction outside [0, 1] is refused before anything is counted") {
    const xg::Array logits = {-2.0f, 0.5f, 1.5f, -0.3f, 3.0f}, labels = {0.0f, 1.0f, 1.0f, 0.0f, 0.0f};
    xg::AUC from_logits({.from_logits = true}), probabilities;
    from_logits.update(logits, labels);
    probabilities.update(1.0f / (1.0f + xt::exp(-logits)), labels);
    CHECK(from_logits.result() == probabilities.result());
    CHECK(from_logits.result() == doctest::Approx(4.0 / 6.0));
    xg::AUC auc;
    auc.update(xg::Array{0.2f, 0.7f}, xg::Array{0.0f, 1.0f});
    // Had 0.1 (a positive below the negative 0.2) been counted before the throw, the area would be 0.5.
    CHECK_THROWS_WITH_AS(auc.update(xg::Array{0.1f, 1.5f}, xg::Array{1.0f, 0.0f}),
                         "auc: prediction 1.5 (element 1); expected a probability from 0 to 1 (or from_logits for logits)",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(auc.update(xg::Array{std::numeric_limits<float>::quiet_NaN()}, xg::Array{1.0f}),
                         doctest::Contains("auc: prediction nan (element 0)"), xg::ValueError);
    CHECK(auc.result() == 1.0);  // the refused batches left no counts
    xg::AUC nan_logit({.from_logits = true});
    CHECK_THROWS_WITH_AS(nan_logit.update(xg::Array{std::numeric_limits<float>::quiet_NaN()}, xg::Array{1.0f}),
                         "auc: logit nan (element 0); expected a number", xg::ValueError);
}

TEST_CASE("the confusion metrics' sums add up across processes: the whole data's figure, not the mean of the parts'") {
    // Two halves with different precisions: 1 of 1, then 1 of 3.
    xg::Precision first, second, whole;
    first.update(xg::Array{0.9f}, xg::Array{1.0f});
    second.update(xg::Array{0.9f, 0.8f, 0.7f}, xg::Array{1.0f, 0.0f, 0.0f});
    std::vector<double> sums = first.sums();
    for (std::size_t i = 0; i < sums.size(); ++i) sums[i] += second.sums()[i];
    whole.set_sums(sums);
    CHECK(whole.result() == 0.5);
    xg::AUC a, b, both, all;
    const xg::Array p1 = {0.1f, 0.6f, 0.35f}, t1 = {0.0f, 1.0f, 1.0f}, p2 = {0.8f, 0.3f}, t2 = {0.0f, 1.0f};
    a.update(p1, t1);
    b.update(p2, t2);
    all.update(p1, t1);
    all.update(p2, t2);
    std::vector<double> auc_sums = a.sums();
    for (std::size_t i = 0; i < auc_sums.size(); ++i) auc_sums[i] += b.sums()[i];
    CHECK(auc_sums.size() == 2 * 201);
    both.set_sums(auc_sums);
    CHECK(both.result() == all.result());
    CHECK_THROWS_WITH_AS(both.set_sums(std::vector<double>(3)), "metric 'auc': set_sums given 3 numbers; expected 402",
                         xg::ValueError);
}

TEST_CASE("the confusion metrics by name, and their settings and shapes checked, naming what is wrong") {
    for (const char* name : {"precision", "Precision", "recall", "Recall", "auc", "AUC"}) {
        CAPTURE(name);
        auto metric = xg::metric_by_name(name, "binary_crossentropy");
        const std::string lower = name[0] == 'P' ? "precision" : name[0] == 'R' ? "recall" : name[0] == 'A' ? "auc" : name;
        CHECK(metric->name() == lower);
        metric->update(xg::Array{0.8f, 0.3f}, xg::Array{1.0f, 0.0f});
        CHECK(metric->result() == 1.0);
    }
    CHECK_THROWS_WITH_AS(xg::Precision(1.5f), "precision: threshold 1.5; expected a number from 0 to 1", xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::Recall(std::numeric_limits<float>::quiet_NaN(), "r"), "r: threshold nan; expected a number from 0 to 1",
                         xg::ValueError);
    CHECK_THROWS_WITH_AS(xg::AUC({.num_thresholds = 1}), "auc: num_thresholds 1; expected at least 2", xg::ValueError);
    xg::Recall recall;
    CHECK_THROWS_WITH_AS(recall.update(xg::Array{{0.1f, 0.2f}}, xg::Array{1.0f}),
                         "recall: predictions (1, 2) and targets (1,); expected one target per prediction, in the same batch",
                         xg::ShapeError);
}
