// End to end on the real MNIST files: the book's convnet (Deep Learning with Python 5.1:
// Conv2D 32 -> MaxPooling2D -> Conv2D 64 -> MaxPooling2D -> Conv2D 64 -> Flatten -> Dense 64
// -> Dense 10, RMSprop, batch 64) trained for one epoch on the first 2000 training images,
// as (28, 28, 1) images, beats chance (10%) by far on 1000 test images: after those 32 steps
// it is at about 67% (seed 1), on its way to 99% after 5 epochs on all 60000. Small enough for
// a sanitizer build (about 2.5 s of CPU in a release build).
#include <memory>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/image_dataset.hpp"
#include "xgrad/data/mnist.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/train/model.hpp"

#ifndef XGRAD_MNIST_DIR
#error "XGRAD_MNIST_DIR must name the folder with the four MNIST .gz files"
#endif

TEST_CASE("the book's convnet, one epoch on 2000 MNIST images, is far better than chance") {
    const xg::MnistData data = xg::load_mnist(XGRAD_MNIST_DIR);
    const xg::ByteArray train_images = xt::view(data.train_images, xt::range(0, 2000), xt::all(), xt::all());
    const xg::ByteArray train_labels = xt::view(data.train_labels, xt::range(0, 2000));
    const xg::ByteArray test_images = xt::view(data.test_images, xt::range(0, 1000), xt::all(), xt::all());
    const xg::ByteArray test_labels = xt::view(data.test_labels, xt::range(0, 1000));
    const xg::ImageDataset train(train_images, train_labels, xg::Shape{28, 28, 1});
    const xg::ImageDataset test(test_images, test_labels, xg::Shape{28, 28, 1});

    xg::manual_seed(1);
    auto network = std::make_shared<xg::Sequential>();
    network->emplace<xg::Conv2D>(1, 32, xg::Size2{3, 3}, "relu");
    network->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    network->emplace<xg::Conv2D>(32, 64, xg::Size2{3, 3}, "relu");
    network->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    network->emplace<xg::Conv2D>(64, 64, xg::Size2{3, 3}, "relu");
    network->emplace<xg::Flatten>();
    network->emplace<xg::Dense>(576, 64, "relu");
    network->emplace<xg::Dense>(64, 10, "softmax");
    REQUIRE(network->parameter_count() == 93322);
    xg::Model model(network);
    model.compile(std::make_shared<xg::RMSprop>(network->parameters()), "categorical_crossentropy", {"accuracy"});
    xg::FitOptions options;
    options.epochs = 1;
    options.batch_size = 64;
    options.verbose = 0;
    const xg::History history = model.fit(train, options);
    CHECK(xg::Tape::current().size() == 0);

    const xg::Logs scores = model.evaluate(test, 64);
    MESSAGE("train loss ", history["loss"][0], ", test loss ", xg::log_value(scores, "loss"), ", test accuracy ",
            xg::log_value(scores, "accuracy"));
    CHECK(xg::log_value(scores, "accuracy") >= 0.5);
    CHECK(history["loss"][0] < 2.0);
}
