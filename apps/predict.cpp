// Loads a model saved with `mnist --save-model` (xg::save_model) and uses it without
// building it: test accuracy over IDX files, or the class of one PNG or PGM image.
//   predict MODEL --images t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz
//   predict MODEL digit.png    (or digit.pgm)
//   predict MODEL photo.png --resize 28x28    (an image of another size, brought to the model's)
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/image_file.hpp"
#include "xgrad/data/mnist.hpp"
#include "xgrad/io/model_file.hpp"
#include "xgrad/nn/resizing.hpp"
#include "xgrad/train/model.hpp"

namespace {

struct Flags {
    std::string model;
    std::string image;
    std::string images;
    std::string labels;
    std::size_t batch_size = 256;
    std::optional<xg::Size2> resize;  // --resize HxW
};

// "28x28" -> {28, 28}; anything else is a CLI::ValidationError naming the text.
xg::Size2 parse_size(const std::string& text) {
    const std::size_t x = text.find('x');
    try {
        std::size_t used_h = 0, used_w = 0;
        if (x == std::string::npos || text.find_first_not_of("0123456789x") != std::string::npos) {
            throw std::invalid_argument(text);
        }
        const unsigned long h = std::stoul(text.substr(0, x), &used_h), w = std::stoul(text.substr(x + 1), &used_w);
        if (used_h != x || used_w != text.size() - x - 1 || h == 0 || w == 0 || h > 65536 || w > 65536) {
            throw std::invalid_argument(text);
        }
        return {h, w};
    } catch (const std::logic_error&) {
        throw CLI::ValidationError("--resize", fmt::format("'{}'; expected HEIGHTxWIDTH, each 1 to 65536, as 28x28", text));
    }
}

std::size_t argmax(const float* row, std::size_t n) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < n; ++j) {
        if (row[j] > row[best]) best = j;
    }
    return best;
}

// Gray (n, h, w) images as values in [0, 1], brought to `size` when one is given the way Keras's
// smart_resize does it: the centred window of that aspect ratio, resized bilinearly.
xg::Array gray_values(const xg::ByteArray& images, const std::optional<xg::Size2>& size) {
    const std::size_t n = images.shape()[0], h = images.shape()[1], w = images.shape()[2];
    xg::Array x = xg::images_to_float(images);
    x.reshape({n, h, w, 1});
    if (size) x = xg::smart_resize(xg::Tensor(x), *size).value();
    x.reshape({n, x.shape()[1], x.shape()[2]});
    return x;
}

// Gray (n, h, w) values as the model's samples: flat (h*w,) rows for a Dense model, (h, w, 1)
// images for a convnet, or (h, w); the first shape the network accepts.
xg::Array as_samples(xg::Module& network, xg::Array images) {
    const std::size_t n = images.shape()[0], h = images.shape()[1], w = images.shape()[2];
    for (const xg::Shape& sample : {xg::Shape{h * w}, xg::Shape{h, w, 1}, xg::Shape{h, w}}) {
        try {
            network.output_shape(sample);
        } catch (const xg::ShapeError&) {
            continue;
        }
        xg::Shape shape{n};
        shape.insert(shape.end(), sample.begin(), sample.end());
        images.reshape(shape);
        return images;
    }
    throw xg::ShapeError(fmt::format("predict: the model takes none of ({},), ({}, {}, 1) and ({}, {}) for {}x{} gray "
                                     "images; expected a model trained on images of this size (--resize HxW brings "
                                     "images to it)",
                                     h * w, h, w, h, w, h, w));
}

int run(const Flags& flags) {
    xg::Model model(xg::load_model(flags.model));
    if (!flags.image.empty()) {
        // One image as one MNIST sample, bytes / 255.
        const xg::ByteArray pixels = xg::read_gray_image(flags.image);
        const xg::ByteArray batch = xt::reshape_view(pixels, {std::size_t{1}, pixels.shape()[0], pixels.shape()[1]});
        const xg::Array p = model.predict(as_samples(model.network(), gray_values(batch, flags.resize)));
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
    const xg::Array p = model.predict(as_samples(model.network(), gray_values(images, flags.resize)), flags.batch_size);
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
    app.add_option_function<std::string>(
        "--resize", [&flags](const std::string& text) { flags.resize = parse_size(text); },
        "Bring the images to HEIGHTxWIDTH first (28x28 for the MNIST models): the centred window of that shape, "
        "resized bilinearly (Keras's smart_resize)");
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
