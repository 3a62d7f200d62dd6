// Loads a model saved with `mnist --save-model` (xg::save_model) and uses it without
// building it: test accuracy over IDX files, or the class of one PNG or PGM image.
//   predict MODEL --images t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz
//   predict MODEL digit.png    (or digit.pgm)
#include <cstdlib>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/image_file.hpp"
#include "xgrad/data/mnist.hpp"
#include "xgrad/io/model_file.hpp"
#include "xgrad/train/model.hpp"

namespace {

struct Flags {
    std::string model;
    std::string image;
    std::string images;
    std::string labels;
    std::size_t batch_size = 256;
};

std::size_t argmax(const float* row, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < n; ++j) {
        if (row[j] > row[best]) best = j;
    }
    return best;
}

// Gray (n, h, w) images as the model's samples: flat (h*w,) rows for a Dense model, (h, w, 1)
// images for a convnet, or (h, w); the first shape the network accepts.
xg::Array as_samples(xg::Module& network, const xg::ByteArray& images) {
    const std::size_t n = images.shape()[0], h = images.shape()[1], w = images.shape()[2];
    for (const xg::Shape& sample : {xg::Shape{h * w}, xg::Shape{h, w, 1}, xg::Shape{h, w}}) {
        try {
            network.output_shape(sample);
        } catch (const xg::ShapeError&) {
            continue;
        }
        xg::Array x = xg::images_to_float(images);
        xg::Shape shape{n};
        shape.insert(shape.end(), sample.begin(), sample.end());
        x.reshape(shape);
        return x;
    }
    throw xg::ShapeError(fmt::format("predict: the model takes none of ({},), ({}, {}, 1) and ({}, {}) for {}x{} gray "
                                     "images; expected a model trained on images of this size",
                                     h * w, h, w, h, w, h, w));
}

int run(const Flags& flags) {
    xg::Model model(xg::load_model(flags.model));
    if (!flags.image.empty()) {
        // One image as one MNIST sample, bytes / 255.
        const xg::ByteArray pixels = xg::read_gray_image(flags.image);
        const xg::ByteArray batch = xt::reshape_view(pixels, {std::size_t{1}, pixels.shape()[0], pixels.shape()[1]});
        const xg::Array p = model.predict(as_samples(model.network(), batch));
        const std::size_t classes = p.shape()[1];
        const std::size_t best = argmax(p.data(), classes);
        std::cout << fmt::format("{}: class {} (probability {:.4f})\n", flags.image, best, p(0, best));
        return 0;
    }
    const xg::ByteArray images = xg::read_idx(flags.images);
    const xg::ByteArray labels = xg::read_idx(flags.labels);
    if (images.dimension() != 3 || labels.dimension() != 1 || images.shape()[0] != labels.shape()[0]) {
        throw xg::ShapeError(fmt::format("predict: images {} and labels {}; expected (N, rows, cols) images and (N,) labels",
                                         xg::format_shape(xg::Shape(images.shape().begin(), images.shape().end())),
                                         xg::format_shape(xg::Shape(labels.shape().begin(), labels.shape().end()))));
    }
    const xg::Array p = model.predict(as_samples(model.network(), images), flags.batch_size);
    const std::size_t n = p.shape()[0], classes = p.shape()[1];
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) correct += argmax(p.data() + i * classes, classes) == labels(i);
    std::cout << fmt::format("{} images, {} correct\ntest_acc: {:.4f}\n", n, correct,
                             static_cast<double>(correct) / static_cast<double>(n));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Flags flags;
    CLI::App app{"Predicts with a model saved by `mnist --save-model`: test accuracy on IDX files, or one image's class"};
    app.add_option("model", flags.model, "Model file written by mnist --save-model (xg::save_model)")->required();
    auto* image = app.add_option("image", flags.image, "A PNG or binary PGM image (28x28 gray, white digit on black, as MNIST)");
    auto* images = app.add_option("--images", flags.images, "IDX file of images (.gz or raw)");
    auto* labels = app.add_option("--labels", flags.labels, "IDX file of their labels (.gz or raw)");
    app.add_option("--batch-size", flags.batch_size, "Samples per forward pass")->check(CLI::Range(1, 1 << 20));
    images->needs(labels);
    labels->needs(images);
    image->excludes(images);
    try {
        app.parse(argc, argv);
        if (flags.image.empty() && flags.images.empty()) {
            throw CLI::RequiredError("predict: an image file, or --images and --labels");
        }
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return run(flags);
    } catch (const std::exception& e) {
        std::cerr << "predict: error: " << e.what() << "\n";
        return 1;
    }
}
