#pragma once
// What the end-to-end tests on the real MNIST files share: the first 2000 training and 1000 test
// images, as datasets of the sample shape a model reads ((28, 28, 1) images for a convnet, (28, 28)
// sequences of rows for a recurrent layer).
#include <cstddef>

#include <xtensor/xview.hpp>

#include "xgrad/data/image_dataset.hpp"
#include "xgrad/data/mnist.hpp"

#ifndef XGRAD_MNIST_DIR
#error "XGRAD_MNIST_DIR must name the folder with the four MNIST .gz files"
#endif

namespace xg::test {

// The first `count` images and labels of a split, kept for an ImageDataset to read.
struct MnistSlice {
    MnistSlice(const ByteArray& all_images, const ByteArray& all_labels, std::size_t count)
        : images(xt::view(all_images, xt::range(0, count), xt::all(), xt::all())),
          labels(xt::view(all_labels, xt::range(0, count))) {}
    ByteArray images, labels;
};

// The datasets read the slices, which live as long as they do.
struct MnistSlices {
    explicit MnistSlices(const Shape& sample)
        : train(train_slice.images, train_slice.labels, sample), test(test_slice.images, test_slice.labels, sample) {}
    // A copy's datasets would read the original's slices.
    MnistSlices(const MnistSlices&) = delete;
    MnistSlices& operator=(const MnistSlices&) = delete;
    MnistData data = load_mnist(XGRAD_MNIST_DIR);
    MnistSlice train_slice{data.train_images, data.train_labels, 2000}, test_slice{data.test_images, data.test_labels, 1000};
    ImageDataset train, test;
};

}  // namespace xg::test
