#pragma once
// MNIST and Fashion-MNIST: finding the folder with the four IDX files, loading them, and
// turning bytes into the float arrays a network trains on (the preprocessing of Keras's
// mnist_mlp example: x / 255 flattened to 784 columns, labels one-hot).
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/data/idx.hpp"

namespace xg {

/// The four splits of an MNIST-format dataset as stored: images (N, H, W) bytes, labels (N,) in 0..9.
struct MnistData {
    ByteArray train_images, train_labels, test_images, test_labels;
    std::string directory;  // the folder they were read from
};

/// The datasets that share MNIST's file names and format.
enum class DatasetKind { mnist, fashion };

/// A dataset folder that was found, the kind it holds, and which place supplied it: "flag", "XGRAD_DATA" or "default".
struct DatasetLocation {
    DatasetKind kind;
    std::string directory;
    std::string source;
};

/// The four file names without ".gz": train images, train labels, test images, test labels.
inline constexpr std::array<std::string_view, 4> mnist_file_names{
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/// The environment variable naming a data folder when no flag does.
inline constexpr std::string_view data_env_var = "XGRAD_DATA";

/// "MNIST" or "Fashion-MNIST".
std::string_view dataset_name(DatasetKind kind);

/// The folder used when neither a flag nor XGRAD_DATA names one: "./data/mnist" or "/usr/share/datasets/fashion-mnist".
std::string default_dataset_dir(DatasetKind kind);

/// True if `dir` holds each of the four files, as .gz or raw.
bool has_mnist_files(const std::string& dir);

/// The folder for `kind`: `dir_flag` if non-empty (IoError if it lacks the files), else $XGRAD_DATA, else
/// default_dataset_dir(kind); throws IoError listing every place looked in and how to get the data.
DatasetLocation find_dataset(DatasetKind kind, const std::string& dir_flag = "");

/// As find_dataset(DatasetKind::mnist, dir_flag), but when MNIST is found nowhere falls back to Fashion-MNIST's
/// default folder; the result's kind says which was picked. A folder from the flag or XGRAD_DATA holds
/// Fashion-MNIST when its test labels are Fashion-MNIST's published ones, else MNIST (or a dataset in its format).
DatasetLocation find_dataset_auto(const std::string& dir_flag = "");

/// Reads the four files from `dir` (.gz preferred over raw) and checks them: images rank 3 with the same
/// (H, W) in both splits, labels rank 1, one label per image, labels < 10; throws IoError naming the file.
MnistData load_mnist(const std::string& dir);

/// The 10 class names: "0".."9" for MNIST, "T-shirt/top", "Trouser", ... for Fashion-MNIST.
std::vector<std::string> class_names(DatasetKind kind);

/// (N, d1, d2, ...) bytes -> (N, d1*d2*...) float32 in [0, 1] (byte / 255); rank must be >= 2.
Array images_to_float(const ByteArray& images);

/// (N,) labels -> (N, classes) float32 one-hot rows; ValueError if a label >= classes.
Array to_categorical(const ByteArray& labels, std::size_t classes = 10);

/// (N,) labels -> (N,) float32 class indices, for sparse losses.
Array labels_to_float(const ByteArray& labels);

}  // namespace xg
