// Loads the model first_model saved and classifies three points with it: a program that never
// built the model, as docs/getting_started.md shows it. Exits non-zero on a wrong class.
#include <xgrad/xgrad.hpp>

#include <cstddef>
#include <exception>
#include <iostream>

int main() try {
    std::shared_ptr<xg::Module> network = xg::load_model("first_model.npz");
    xg::Model model(network);
    const xg::Array points = xg::array({3, 2}, {0.5f, 0.5f, -0.5f, 0.5f, -0.5f, -0.5f}).value();
    const xg::Array probabilities = model.predict(points);  // (3, 2): P(class 0), P(class 1)
    const int expected[] = {1, 0, 1};
    bool right = true;
    for (std::size_t i = 0; i < 3; ++i) {
        const int predicted = probabilities(i, 1) > probabilities(i, 0) ? 1 : 0;
        std::cout << "(" << points(i, 0) << ", " << points(i, 1) << ") -> class " << predicted << "\n";
        right = right && predicted == expected[i];
    }
    return right ? 0 : 1;
} catch (const std::exception& e) {  // a missing or corrupt file: say which, exit non-zero
    std::cerr << "use_model: " << e.what() << "\n";
    return 1;
}
