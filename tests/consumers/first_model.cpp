// A first model, as docs/getting_started.md shows it: points in [-1, 1]^2 labelled by the sign
// of x * y (the four quadrants, which no straight line separates), a two-layer network trained
// with fit and evaluated on points it has not seen. Exits non-zero unless it learned the task.
#include <xgrad/xgrad.hpp>

#include <iostream>
#include <memory>

// n random points and their labels (1 where x * y > 0, else 0).
void make_quadrants(std::size_t n, xg::Array& points, xg::Array& labels) {
    points = xg::initializers::random_uniform(-1.0f, 1.0f)({n, 2});
    labels = xg::initializers::zeros({n});
    for (std::size_t i = 0; i < n; ++i) labels(i) = points(i, 0) * points(i, 1) > 0.0f ? 1.0f : 0.0f;
}

int main() {
    xg::manual_seed(1);
    xg::Array train_x, train_y, test_x, test_y;
    make_quadrants(2048, train_x, train_y);
    make_quadrants(512, test_x, test_y);

    auto network = std::make_shared<xg::Sequential>();
    network->emplace<xg::Dense>(2, 32, "tanh");
    network->emplace<xg::Dense>(32, 2, "softmax");

    xg::Model model(network);
    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    model.fit(train_x, train_y, {.epochs = 40, .batch_size = 32, .verbose = 0});

    const xg::Logs test = model.evaluate(test_x, test_y);
    const double accuracy = xg::log_value(test, "accuracy");
    std::cout << "test accuracy " << accuracy << "\n";
    return accuracy > 0.9 ? 0 : 1;
}
