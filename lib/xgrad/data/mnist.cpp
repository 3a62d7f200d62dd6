#include "xgrad/data/mnist.hpp"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>

#include <fmt/format.h>
#include <zlib.h>

#include "xgrad/core/error.hpp"

namespace xg {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t mnist_classes = 10;

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

// The file to read for one of the four names: the .gz if present, else the raw file.
std::optional<fs::path> find_file(const fs::path& dir, std::string_view name) {
    const fs::path gz = dir / (std::string(name) + ".gz");
    if (is_file(gz)) return gz;
    const fs::path raw = dir / std::string(name);
    if (is_file(raw)) return raw;
    return std::nullopt;
}

// Why `dir` is not a data folder: "no such folder", "missing t10k-labels-idx1-ubyte(.gz)", ...
std::string why_not_data_dir(const std::string& dir) {
    std::error_code ec;
    const auto status = fs::status(dir, ec);
    if (!fs::exists(status)) return "no such folder";
    if (!fs::is_directory(status)) return "not a folder";
    std::vector<std::string> missing;
    for (const auto name : mnist_file_names) {
        if (!find_file(dir, name)) missing.push_back(fmt::format("{}(.gz)", name));
    }
    return fmt::format("missing {}", fmt::join(missing, ", "));
}

// "./data/mnist" alone says little when the working directory is unexpected; show where it resolved to.
std::string describe_place(const std::string& dir) {
    if (fs::path(dir).is_absolute()) return dir;
    std::error_code ec;
    const fs::path absolute = fs::absolute(dir, ec);
    return ec ? dir : fmt::format("{} ({})", dir, absolute.lexically_normal().string());
}

std::string gz_file_list() {
    std::vector<std::string> names;
    for (const auto name : mnist_file_names) names.push_back(fmt::format("{}.gz", name));
    return fmt::format("{}", fmt::join(names, ", "));
}

std::optional<std::string> env_data_dir() {
    const char* value = std::getenv(std::string(data_env_var).c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
}

// Searches XGRAD_DATA then the default folder of `kind`; notes each place and why it failed.
std::optional<DatasetLocation> search(DatasetKind kind, bool with_env, std::vector<std::string>& looked) {
    if (with_env) {
        if (const auto env = env_data_dir()) {
            if (has_mnist_files(*env)) return DatasetLocation{kind, *env, std::string(data_env_var)};
            looked.push_back(fmt::format("{}={}: {}", data_env_var, describe_place(*env), why_not_data_dir(*env)));
        } else {
            looked.push_back(fmt::format("{}: not set", data_env_var));
        }
    }
    const std::string fallback = default_dataset_dir(kind);
    if (has_mnist_files(fallback)) return DatasetLocation{kind, fallback, "default"};
    looked.push_back(fmt::format("{}: {}", describe_place(fallback), why_not_data_dir(fallback)));
    return std::nullopt;
}

DatasetLocation from_flag(DatasetKind kind, const std::string& dir_flag, const char* function) {
    if (!has_mnist_files(dir_flag)) {
        throw IoError(fmt::format("{}: {}: not a {} folder ({}); expected the four files {} (or unpacked) in the "
                                  "folder given",
                                  function, describe_place(dir_flag), dataset_name(kind), why_not_data_dir(dir_flag),
                                  gz_file_list()));
    }
    return DatasetLocation{kind, dir_flag, "flag"};
}

// Fashion-MNIST's published test labels as a CRC-32 of their 10,000 bytes: what tells its files
// from MNIST's, which have the same names, sizes and format.
constexpr unsigned long fashion_test_labels_crc = 0x242bc73f;

// The kind of dataset in a folder that has the four files: Fashion-MNIST when its test labels are
// Fashion-MNIST's, else MNIST (also for any other dataset in MNIST's format, and for an unreadable
// file, which load_mnist then reports with its reason).
DatasetKind recognize(const std::string& dir) {
    const auto file = find_file(dir, mnist_file_names[3]);
    if (!file) return DatasetKind::mnist;
    try {
        const ByteArray labels = read_idx(file->string());
        if (labels.size() != 10000) return DatasetKind::mnist;
        const unsigned long crc = crc32(crc32(0L, Z_NULL, 0), labels.data(), static_cast<uInt>(labels.size()));
        return crc == fashion_test_labels_crc ? DatasetKind::fashion : DatasetKind::mnist;
    } catch (const IoError&) {
        return DatasetKind::mnist;
    }
}

std::string how_to_get_mnist() {
    return fmt::format("the four MNIST files ({}) in one of those places, or use --dataset fashion after "
                       "`apt-get install dataset-fashion-mnist`",
                       gz_file_list());
}

ByteArray read_checked(const fs::path& dir, std::string_view name, std::size_t rank, std::string& used_path) {
    const auto file = find_file(dir, name);
    if (!file) {
        throw IoError(fmt::format("load_mnist: {}: missing {}.gz (or {}); expected the four MNIST files in that folder",
                                  dir.string(), name, name));
    }
    used_path = file->string();
    ByteArray a = read_idx(used_path);
    if (a.dimension() != rank) {
        throw IoError(fmt::format("load_mnist: {}: holds shape {}; expected {}", used_path, format_shape(a.shape()),
                                  rank == 3 ? "images (N, 28, 28)" : "labels (N,)"));
    }
    return a;
}

void check_split(const ByteArray& images, const std::string& images_path, const ByteArray& labels,
                 const std::string& labels_path) {
    if (images.shape()[0] != labels.shape()[0]) {
        throw IoError(fmt::format("load_mnist: {}: {} labels for {} images in {}; expected one label per image",
                                  labels_path, labels.shape()[0], images.shape()[0], images_path));
    }
    const std::uint8_t* data = labels.data();
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (data[i] >= mnist_classes) {
            throw IoError(fmt::format("load_mnist: {}: label {} at index {}; expected labels from 0 to {}", labels_path,
                                      data[i], i, mnist_classes - 1));
        }
    }
}

}  // namespace

std::string_view dataset_name(DatasetKind kind) {
    return kind == DatasetKind::fashion ? "Fashion-MNIST" : "MNIST";
}

std::string default_dataset_dir(DatasetKind kind) {
    // Debian's dataset-fashion-mnist package installs the four .gz files here.
    return kind == DatasetKind::fashion ? "/usr/share/datasets/fashion-mnist" : "./data/mnist";
}

bool has_mnist_files(const std::string& dir) {
    if (dir.empty()) return false;
    for (const auto name : mnist_file_names) {
        if (!find_file(dir, name)) return false;
    }
    return true;
}

DatasetLocation find_dataset(DatasetKind kind, const std::string& dir_flag) {
    if (!dir_flag.empty()) return from_flag(kind, dir_flag, "find_dataset");
    std::vector<std::string> looked;
    if (auto found = search(kind, true, looked)) return *found;
    if (kind == DatasetKind::fashion) {
        throw IoError(fmt::format("find_dataset: Fashion-MNIST not found (looked in {}); expected "
                                  "`apt-get install dataset-fashion-mnist`, or the four Fashion-MNIST files ({}) in one "
                                  "of those places",
                                  fmt::join(looked, "; "), gz_file_list()));
    }
    throw IoError(fmt::format("find_dataset: MNIST not found (looked in {}); expected {}", fmt::join(looked, "; "),
                              how_to_get_mnist()));
}

DatasetLocation find_dataset_auto(const std::string& dir_flag) {
    if (!dir_flag.empty()) {
        DatasetLocation found = from_flag(DatasetKind::mnist, dir_flag, "find_dataset_auto");
        found.kind = recognize(found.directory);
        return found;
    }
    std::vector<std::string> looked;
    if (auto found = search(DatasetKind::mnist, true, looked)) {
        found->kind = recognize(found->directory);
        return *found;
    }
    if (auto found = search(DatasetKind::fashion, false, looked)) return *found;
    throw IoError(fmt::format("find_dataset_auto: neither MNIST nor Fashion-MNIST found (looked in {}); expected {}",
                              fmt::join(looked, "; "), how_to_get_mnist()));
}

MnistData load_mnist(const std::string& dir) {
    MnistData d;
    d.directory = dir;
    std::array<std::string, 4> paths;
    d.train_images = read_checked(dir, mnist_file_names[0], 3, paths[0]);
    d.train_labels = read_checked(dir, mnist_file_names[1], 1, paths[1]);
    d.test_images = read_checked(dir, mnist_file_names[2], 3, paths[2]);
    d.test_labels = read_checked(dir, mnist_file_names[3], 1, paths[3]);
    const auto& train_shape = d.train_images.shape();
    const auto& test_shape = d.test_images.shape();
    if (train_shape[1] != test_shape[1] || train_shape[2] != test_shape[2]) {
        throw IoError(fmt::format("load_mnist: {}: images have shape {} but training images in {} have {}; expected "
                                  "the same image size in both splits",
                                  paths[2], format_shape(test_shape), paths[0], format_shape(train_shape)));
    }
    check_split(d.train_images, paths[0], d.train_labels, paths[1]);
    check_split(d.test_images, paths[2], d.test_labels, paths[3]);
    return d;
}

std::vector<std::string> class_names(DatasetKind kind) {
    if (kind == DatasetKind::fashion) {
        return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    }
    return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

Array images_to_float(const ByteArray& images) {
    if (images.dimension() < 2) {
        throw ShapeError(fmt::format("images_to_float: images have shape {}; expected (N, ...) of rank >= 2",
                                     format_shape(images.shape())));
    }
    const std::size_t n = images.shape()[0];
    const std::size_t features = n == 0 ? element_count(Shape(images.shape().begin() + 1, images.shape().end()))
                                        : images.size() / n;
    Array out = uninitialized({n, features});
    const std::uint8_t* src = images.data();
    float* dst = out.data();
    // Division rather than a reciprocal multiply, so that values match x / 255 in numpy bit for bit.
    for (std::size_t i = 0; i < images.size(); ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
    return out;
}

Array to_categorical(const ByteArray& labels, std::size_t classes) {
    if (labels.dimension() != 1) {
        throw ShapeError(fmt::format("to_categorical: labels have shape {}; expected (N,)", format_shape(labels.shape())));
    }
    if (classes == 0) throw ValueError("to_categorical: classes is 0; expected classes >= 1");
    const std::size_t n = labels.size();
    Array out = xt::zeros<float>({n, classes});
    const std::uint8_t* src = labels.data();
    float* dst = out.data();
    for (std::size_t i = 0; i < n; ++i) {
        if (src[i] >= classes) {
            throw ValueError(fmt::format("to_categorical: label {} at index {} is out of range; expected labels from 0 "
                                         "to {} for {} classes",
                                         src[i], i, classes - 1, classes));
        }
        dst[i * classes + src[i]] = 1.0f;
    }
    return out;
}

Array labels_to_float(const ByteArray& labels) {
    if (labels.dimension() != 1) {
        throw ShapeError(fmt::format("labels_to_float: labels have shape {}; expected (N,)", format_shape(labels.shape())));
    }
    Array out = uninitialized({labels.size()});
    const std::uint8_t* src = labels.data();
    float* dst = out.data();
    for (std::size_t i = 0; i < labels.size(); ++i) dst[i] = static_cast<float>(src[i]);
    return out;
}

}  // namespace xg
