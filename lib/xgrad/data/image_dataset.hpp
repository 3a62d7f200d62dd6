#pragma once
// ImageDataset: byte images and labels kept as they are stored, converted a batch at a
// time. Training on MNIST this way holds 55 MB of bytes instead of 220 MB of floats.
#include "xgrad/data/dataset.hpp"
#include "xgrad/data/idx.hpp"

namespace xg {

class ImageDataset : public Dataset {
public:
    /// images (n, ...) bytes and labels (n,) in [0, classes); both must outlive the dataset.
    /// x is byte / 255 flattened to (features,); y is one-hot (classes,) or, when
    /// one_hot is false, the label as a float (). Throws ShapeError / ValueError on bad input.
    ImageDataset(const ByteArray& images, const ByteArray& labels, std::size_t classes = 10, bool one_hot = true);
    /// The same with x of shape `sample_shape`, which must hold the image's pixels: (28, 28, 1)
    /// for a convnet's channels-last input; throws ShapeError when the sizes differ.
    ImageDataset(const ByteArray& images, const ByteArray& labels, const Shape& sample_shape, std::size_t classes = 10,
                 bool one_hot = true);
    /// A temporary (a slice made in the call) would be gone before the first batch: refused at
    /// compile time. Keep the arrays in variables that outlive the dataset.
    template <class... Rest>
    ImageDataset(const ByteArray&& images, const ByteArray& labels, Rest&&...) = delete;
    template <class... Rest>
    ImageDataset(const ByteArray& images, const ByteArray&& labels, Rest&&...) = delete;

    std::size_t size() const override { return labels_.size(); }
    Shape x_shape() const override { return x_shape_; }
    Shape y_shape() const override;
    void gather(std::span<const std::size_t> rows, Array& x, Array& y) const override;

private:
    const ByteArray& images_;
    const ByteArray& labels_;
    std::size_t classes_, features_;
    bool one_hot_;
    Shape x_shape_;
};

}  // namespace xg
