#include "xgrad/data/image_dataset.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "xgrad/core/error.hpp"
#include "xgrad/core/parallel.hpp"

namespace xg {

ImageDataset::ImageDataset(const ByteArray& images, const ByteArray& labels, std::size_t classes, bool one_hot)
    : images_(images), labels_(labels), classes_(classes), features_(0), one_hot_(one_hot) {
    if (images.dimension() < 2 || labels.dimension() != 1 || images.shape()[0] != labels.shape()[0]) {
        throw ShapeError(fmt::format("ImageDataset: images {} and labels {}; expected (n, ...) and (n,)",
                                     format_shape(images.shape()), format_shape(labels.shape())));
    }
    if (classes == 0) throw ValueError("ImageDataset: classes is 0; expected at least 1");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels(i) >= classes) {
            throw ValueError(fmt::format("ImageDataset: label {} at index {}; expected < {}", labels(i), i, classes));
        }
    }
    // The product of the sample's extents, not size / n: a file of no images has n = 0.
    features_ = element_count(Shape(images.shape().begin() + 1, images.shape().end()));
    x_shape_ = {features_};
}

ImageDataset::ImageDataset(const ByteArray& images, const ByteArray& labels, const Shape& sample_shape,
                           std::size_t classes, bool one_hot)
    : ImageDataset(images, labels, classes, one_hot) {
    if (element_count(sample_shape) != features_ || sample_shape.empty()) {
        throw ShapeError(fmt::format("ImageDataset: sample shape {} for images {}; expected {} elements per sample",
                                     format_shape(sample_shape), format_shape(images.shape()), features_));
    }
    x_shape_ = sample_shape;
}

Shape ImageDataset::y_shape() const { return one_hot_ ? Shape{classes_} : Shape{}; }

void ImageDataset::gather(std::span<const std::size_t> rows, Array& x, Array& y) const {
    const std::size_t n = rows.size();
    Shape x_target{n};
    x_target.insert(x_target.end(), x_shape_.begin(), x_shape_.end());
    const Shape y_target = one_hot_ ? Shape{n, classes_} : Shape{n};
    if (x.shape() != x_target) x.resize(x_target);
    if (y.shape() != y_target) y.resize(y_target);
    for (std::size_t r = 0; r < n; ++r) {
        if (rows[r] >= size()) {
            throw ShapeError(fmt::format("ImageDataset: row {} out of range; expected < {}", rows[r], size()));
        }
    }
    std::fill(y.begin(), y.end(), 0.0f);
    // A gathered row comes from memory (the images are larger than the cache and read in a new
    // order each epoch) and each of its bytes is divided: an element costs several times a
    // simple loop's, so rows are split at an eighth of the usual grain (a batch of 128 MNIST rows
    // goes to two threads, where the usual grain kept it on one).
    parallel_for(0, n, rows_per_split(features_, kParallelGrain / 8), [&](std::size_t lo, std::size_t hi) {
        for (std::size_t r = lo; r < hi; ++r) {
            // The next row is somewhere else in memory: ask for all of it while this one converts.
            if (r + 1 < hi) {
                const std::uint8_t* next = images_.data() + rows[r + 1] * features_;
                for (std::size_t at = 0; at < features_; at += 64) __builtin_prefetch(next + at);
            }
            const std::uint8_t* pixels = images_.data() + rows[r] * features_;
            float* out = x.data() + r * features_;
            for (std::size_t f = 0; f < features_; ++f) out[f] = static_cast<float>(pixels[f]) / 255.0f;  // as images_to_float
            const std::size_t label = labels_.data()[rows[r]];
            if (one_hot_) {
                y.data()[r * classes_ + label] = 1.0f;
            } else {
                y.data()[r] = static_cast<float>(label);
            }
        }
    });
}

}  // namespace xg
