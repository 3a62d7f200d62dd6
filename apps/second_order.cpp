// Gradients of gradients, two ways:
// - a gradient penalty: a small classifier D on 2-D points trained with Adam on its
//   cross-entropy plus lambda * mean((|dD/dx| - 1)^2), the norm of D's input gradient per
//   point (as in WGAN-GP). The penalty's gradient goes through D's gradient: a double backward.
// - Newton's method on the Rosenbrock function with xg::hessian: a few steps from (-1.2, 1) to
//   the minimum at (1, 1), where plain gradient descent needs thousands.
// The classifier is trained twice, without and with the penalty; the app exits non-zero unless
// both learn, the penalty holds the gradient norm nearer 1, and Newton converges.
// docs/custom_models.md walks through it.
#include <cmath>
#include <random>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/autograd/functional.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/nn/initializer.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/optim/adam.hpp"

namespace {

// Two Gaussian blobs of `n` points each, around (-1, -1) (class 0) and (1, 1) (class 1).
void make_blobs(std::size_t n, xg::Array& points, xg::Array& targets) {
    std::normal_distribution<float> normal(0.0f, 0.6f);
    points = xg::uninitialized({2 * n, 2});
    for (float& v : points) v = normal(xg::random_engine());
    targets = xt::zeros<float>({2 * n, std::size_t{2}});
    for (std::size_t i = 0; i < 2 * n; ++i) {
        const std::size_t c = i < n ? 0 : 1;
        const float centre = c == 0 ? -1.0f : 1.0f;
        points(i, 0) += centre;
        points(i, 1) += centre;
        targets(i, c) = 1.0f;
    }
}

// [gradient-penalty]
struct Critic {
    xg::Tensor w1 = xg::parameter(xg::initializers::glorot_uniform({2, 16}), "w1");
    xg::Tensor b1 = xg::parameter(xt::zeros<float>({16}), "b1");
    xg::Tensor w2 = xg::parameter(xg::initializers::glorot_uniform({16, 2}), "w2");
    xg::Tensor b2 = xg::parameter(xt::zeros<float>({2}), "b2");

    xg::Tensor operator()(const xg::Tensor& x) const { return xg::linear(xg::tanh(xg::linear(x, w1, b1)), w2, b2); }
    std::vector<xg::Tensor> parameters() const { return {w1, b1, w2, b2}; }
};

// One training step: cross-entropy + lambda * mean over points of (|d score / dx| - 1)^2,
// where score is the logit difference. Returns {cross-entropy, penalty}.
std::pair<float, float> penalized_step(const Critic& d, xg::Optimizer& optimizer, const xg::Array& points,
                                       const xg::Array& targets, float lambda) {
    const xg::Tensor x = xg::Tensor(points, true);  // the penalty differentiates with respect to the input
    const xg::Tensor logits = d(x);
    const xg::Tensor cross_entropy = xg::softmax_cross_entropy(logits, xg::constant(targets));
    const xg::Tensor score = xg::slice(logits, 1, 1, 2) - xg::slice(logits, 1, 0, 1);
    // Points are independent, so d(sum of scores)/dx holds each point's own gradient, (n, 2).
    xg::GradOptions options;
    options.create_graph = true;  // the gradient is recorded: the penalty can be differentiated
    const xg::Tensor dscore = xg::grad(xg::sum(score), x, options);
    const xg::Tensor norm = xg::sqrt(xg::sum(dscore * dscore, 1) + 1e-12f);
    const xg::Tensor penalty = xg::mean(xg::square(norm - 1.0f));
    const xg::Tensor loss = cross_entropy + lambda * penalty;
    optimizer.zero_grad();
    loss.backward();  // through the gradient too; the tape ends empty
    optimizer.step();
    return {cross_entropy.item(), penalty.item()};
}
// [gradient-penalty]

// [newton]
// Rosenbrock: (1 - x)^2 + 100 (y - x^2)^2.
xg::Tensor rosenbrock(const xg::Tensor& p) {
    const xg::Tensor x = xg::slice(p, 0, 0, 1);
    const xg::Tensor y = xg::slice(p, 0, 1, 2);
    return xg::sum(xg::square(1.0f - x) + 100.0f * xg::square(y - xg::square(x)));
}

// Newton's method: p <- p - H(p)^-1 grad f(p), H from xg::hessian, the 2x2 system by Cramer's rule.
// Returns the number of steps taken to get |grad| below `tolerance`, or -1.
int newton(xg::Array& p, int max_steps, float tolerance) {
    for (int step = 0; step <= max_steps; ++step) {
        const xg::Array g = xg::jacobian(rosenbrock, p);  // (2,): the gradient of a scalar function
        const xg::Array h = xg::hessian(rosenbrock, p);   // (2, 2)
        fmt::print("newton step {}: p = ({:.6f}, {:.6f}), f = {:.3e}, |grad| = {:.3e}\n", step, p(0), p(1),
                   rosenbrock(xg::constant(p)).item(), std::hypot(g(0), g(1)));
        if (std::hypot(g(0), g(1)) < tolerance) return step;
        const float det = h(0, 0) * h(1, 1) - h(0, 1) * h(1, 0);
        p(0) -= (h(1, 1) * g(0) - h(0, 1) * g(1)) / det;
        p(1) -= (h(0, 0) * g(1) - h(1, 0) * g(0)) / det;
    }
    return -1;
}
// [newton]

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Gradients of gradients: a gradient penalty trained with Adam, and Newton's method with hessian"};
    int epochs = 200;
    float lambda = 1.0f;
    unsigned seed = 3;
    app.add_option("--epochs", epochs, "training steps of the penalized classifier")->check(CLI::PositiveNumber);
    app.add_option("--lambda", lambda, "weight of the gradient penalty")->check(CLI::NonNegativeNumber);
    app.add_option("--seed", seed, "random seed");
    CLI11_PARSE(app, argc, argv);
    try {
        // The same classifier trained twice from the same start, without and with the penalty:
        // the penalty must hold the input gradient's norm nearer 1 than training alone does.
        xg::Array points, targets;
        std::pair<float, float> first{}, plain{}, penalized{};
        for (const float weight : {0.0f, lambda}) {
            xg::manual_seed(seed);
            make_blobs(100, points, targets);
            Critic d;
            xg::Adam optimizer(d.parameters(), {.learning_rate = 0.01f});
            std::pair<float, float> last{};
            for (int epoch = 0; epoch < epochs; ++epoch) {
                last = penalized_step(d, optimizer, points, targets, weight);
                if (epoch == 0) first = last;
                if (epoch % 50 == 0 || epoch + 1 == epochs) {
                    fmt::print("lambda {}: epoch {}: cross-entropy {:.4f}, penalty {:.4f}, tape {} records\n", weight,
                               epoch, last.first, last.second, xg::Tape::current().size());
                }
            }
            (weight == 0.0f ? plain : penalized) = last;
        }
        const bool trained = penalized.first < 0.5f * first.first && plain.first < 0.5f * first.first &&
                             (lambda == 0.0f || penalized.second < plain.second) && xg::Tape::current().size() == 0;

        xg::Array p{-1.2f, 1.0f};
        const int steps = newton(p, 20, 1e-3f);
        const bool converged = steps >= 0 && std::abs(p(0) - 1.0f) < 1e-3f && std::abs(p(1) - 1.0f) < 1e-3f;
        fmt::print("newton: {} after {} steps at ({:.6f}, {:.6f})\n", converged ? "converged" : "did not converge",
                   steps, p(0), p(1));
        if (!trained) {
            std::cerr << "second_order: cross-entropy " << first.first << " -> " << plain.first << " (lambda 0), "
                      << penalized.first << " (lambda " << lambda << "); penalty " << plain.second << " (lambda 0), "
                      << penalized.second << "; expected the cross-entropy to halve and the penalty to be "
                      << "lower with lambda > 0\n";
        }
        return trained && converged ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "second_order: " << e.what() << '\n';
        return 1;
    }
}
