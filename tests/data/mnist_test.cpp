// MNIST loading from the real files, the folder search, and the float/one-hot preprocessing.
#include "xgrad/data/mnist.hpp"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>

#include <doctest/doctest.h>

#include "io_error.hpp"
#include "xgrad/core/error.hpp"

#ifndef XGRAD_MNIST_DIR
#error "XGRAD_MNIST_DIR must name the folder with the four MNIST .gz files"
#endif

namespace fs = std::filesystem;

namespace {

// Loading the real files takes about half a second: do it once per program.
const xg::MnistData& mnist() {
    static const xg::MnistData data = xg::load_mnist(XGRAD_MNIST_DIR);
    return data;
}

struct MnistTempDir {
    fs::path path;
    MnistTempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("xgrad_mnist_test_" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~MnistTempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// Sets (or unsets, for nullopt) XGRAD_DATA and the working directory for one scope, then restores both.
struct Environment {
    std::optional<std::string> saved_env;
    fs::path saved_cwd = fs::current_path();
    Environment(const std::optional<std::string>& data_env, const fs::path& cwd) {
        if (const char* v = std::getenv("XGRAD_DATA")) saved_env = v;
        set(data_env);
        fs::current_path(cwd);
    }
    ~Environment() {
        set(saved_env);
        fs::current_path(saved_cwd);
    }
    static void set(const std::optional<std::string>& value) {
        if (value) ::setenv("XGRAD_DATA", value->c_str(), 1);
        else ::unsetenv("XGRAD_DATA");
    }
};

xg::ByteArray filled(const xg::ByteArray::shape_type& shape, std::uint8_t modulo) {
    xg::ByteArray a = xg::ByteArray::from_shape(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<std::uint8_t>(i % modulo);
    return a;
}

// A small MNIST-format folder: `train` and `test` images of 28x28 with matching labels.
void write_fake_mnist(const fs::path& dir, std::size_t train, std::size_t test, bool gzip = true) {
    fs::create_directories(dir);
    const std::string ext = gzip ? ".gz" : "";
    xg::write_idx((dir / ("train-images-idx3-ubyte" + ext)).string(), filled({train, 28, 28}, 255), gzip);
    xg::write_idx((dir / ("train-labels-idx1-ubyte" + ext)).string(), filled({train}, 10), gzip);
    xg::write_idx((dir / ("t10k-images-idx3-ubyte" + ext)).string(), filled({test, 28, 28}, 255), gzip);
    xg::write_idx((dir / ("t10k-labels-idx1-ubyte" + ext)).string(), filled({test}, 10), gzip);
}

using xg::test::io_error;

using xg::test::contains;

std::array<std::size_t, 10> histogram(const xg::ByteArray& labels) {
    std::array<std::size_t, 10> counts{};
    for (auto label : labels) ++counts.at(label);
    return counts;
}

}  // namespace

TEST_CASE("load_mnist reads the four real files with their shapes and label counts") {
    const xg::MnistData& d = mnist();
    CHECK(d.directory == XGRAD_MNIST_DIR);
    CHECK(d.train_images.shape() == xg::ByteArray::shape_type{60000, 28, 28});
    CHECK(d.train_labels.shape() == xg::ByteArray::shape_type{60000});
    CHECK(d.test_images.shape() == xg::ByteArray::shape_type{10000, 28, 28});
    CHECK(d.test_labels.shape() == xg::ByteArray::shape_type{10000});
    CHECK(histogram(d.train_labels) ==
          std::array<std::size_t, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
    CHECK(histogram(d.test_labels) == std::array<std::size_t, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
    // The first training digit is a 5, the first test digit a 7.
    CHECK(d.train_labels(0) == 5);
    CHECK(d.test_labels(0) == 7);
}

TEST_CASE("images_to_float flattens to (N, 784) in [0, 1]") {
    const xg::MnistData& d = mnist();
    const xg::Array x = xg::images_to_float(d.test_images);
    REQUIRE(x.shape() == xg::Shape{10000, 784});
    CHECK(xt::amin(x)() == 0.0f);
    CHECK(xt::amax(x)() == 1.0f);
    for (std::size_t i : {0ul, 5000ul, 9999ul}) {
        for (std::size_t p : {0ul, 350ul, 783ul}) {
            CHECK(x(i, p) == static_cast<float>(d.test_images(i, p / 28, p % 28)) / 255.0f);
        }
    }
    CHECK(xg::images_to_float(filled({2, 3, 4, 5}, 255)).shape() == xg::Shape{2, 60});
    CHECK(xg::images_to_float(xg::ByteArray::from_shape({0, 28, 28})).shape() == xg::Shape{0, 784});
    CHECK_THROWS_AS(xg::images_to_float(d.test_labels), xg::ShapeError);
}

TEST_CASE("to_categorical and labels_to_float") {
    const xg::MnistData& d = mnist();
    const xg::Array y = xg::to_categorical(d.test_labels);
    REQUIRE(y.shape() == xg::Shape{10000, 10});
    CHECK(xt::sum(y)() == 10000.0f);
    for (std::size_t i : {0ul, 1ul, 4321ul, 9999ul}) {
        for (std::size_t c = 0; c < 10; ++c) CHECK(y(i, c) == (c == d.test_labels(i) ? 1.0f : 0.0f));
    }
    const xg::Array sparse = xg::labels_to_float(d.test_labels);
    REQUIRE(sparse.shape() == xg::Shape{10000});
    CHECK(sparse(0) == 7.0f);

    const xg::ByteArray labels{0, 3, 1};
    CHECK(xg::to_categorical(labels, 4) == xg::Array{{1, 0, 0, 0}, {0, 0, 0, 1}, {0, 1, 0, 0}});
    CHECK_THROWS_AS(xg::to_categorical(labels, 3), xg::ValueError);
    CHECK_THROWS_AS(xg::to_categorical(labels, 0), xg::ValueError);
    CHECK_THROWS_AS(xg::to_categorical(filled({2, 2}, 2)), xg::ShapeError);
    CHECK_THROWS_AS(xg::labels_to_float(filled({2, 2}, 2)), xg::ShapeError);
    try {
        (void)xg::to_categorical(xg::ByteArray{1, 12}, 10);
    } catch (const xg::ValueError& e) {
        CHECK(std::string(e.what()) ==
              "to_categorical: label 12 at index 1 is out of range; expected labels from 0 to 9 for 10 classes");
    }
}

TEST_CASE("load_mnist checks the files agree, prefers .gz, and names the file at fault") {
    MnistTempDir tmp;
    const fs::path dir = tmp.path / "small";
    write_fake_mnist(dir, 3, 2, true);
    write_fake_mnist(dir, 5, 4, false);  // raw copies of another size: the .gz files win
    const xg::MnistData d = xg::load_mnist(dir.string());
    CHECK(d.train_images.shape() == xg::ByteArray::shape_type{3, 28, 28});
    CHECK(d.test_labels.shape() == xg::ByteArray::shape_type{2});

    fs::remove(dir / "t10k-labels-idx1-ubyte.gz");
    xg::write_idx((dir / "t10k-labels-idx1-ubyte").string(), xg::ByteArray{9, 8}, false);
    CHECK(xg::load_mnist(dir.string()).test_labels == xg::ByteArray{9, 8});  // the raw file when there is no .gz
    fs::remove(dir / "t10k-labels-idx1-ubyte");
    std::string message = io_error([&] { (void)xg::load_mnist(dir.string()); });
    CHECK(contains(message, "load_mnist: " + dir.string() + ": missing t10k-labels-idx1-ubyte.gz"));

    const std::string labels = (dir / "t10k-labels-idx1-ubyte.gz").string();
    xg::write_idx(labels, filled({3}, 10), true);
    message = io_error([&] { (void)xg::load_mnist(dir.string()); });
    CHECK(contains(message, "load_mnist: " + labels + ": 3 labels for 2 images"));

    xg::write_idx(labels, xg::ByteArray{1, 10}, true);
    message = io_error([&] { (void)xg::load_mnist(dir.string()); });
    CHECK(contains(message, "load_mnist: " + labels + ": label 10 at index 1"));

    xg::write_idx(labels, filled({2, 1}, 10), true);
    message = io_error([&] { (void)xg::load_mnist(dir.string()); });
    CHECK(contains(message, "load_mnist: " + labels + ": holds shape (2, 1)"));

    const std::string images = (dir / "t10k-images-idx3-ubyte.gz").string();
    xg::write_idx(labels, filled({2}, 10), true);
    xg::write_idx(images, filled({2, 14, 14}, 255), true);
    message = io_error([&] { (void)xg::load_mnist(dir.string()); });
    CHECK(contains(message, "load_mnist: " + images + ": images have shape (2, 14, 14)"));

    xg::write_idx(images, filled({2, 784}, 255), true);
    message = io_error([&] { (void)xg::load_mnist(dir.string()); });
    CHECK(contains(message, "load_mnist: " + images + ": holds shape (2, 784)"));
}

TEST_CASE("find_dataset looks at the flag, then XGRAD_DATA, then ./data/mnist") {
    MnistTempDir tmp;
    const fs::path from_flag = tmp.path / "flag", from_env = tmp.path / "env";
    write_fake_mnist(from_flag, 1, 1);
    write_fake_mnist(from_env, 1, 1);
    write_fake_mnist(tmp.path / "data" / "mnist", 1, 1);
    const fs::path empty = tmp.path / "empty";
    fs::create_directories(empty);

    {
        Environment env(from_env.string(), tmp.path);
        xg::DatasetLocation found = xg::find_dataset(xg::DatasetKind::mnist, from_flag.string());
        CHECK(found.directory == from_flag.string());
        CHECK(found.source == "flag");
        CHECK(found.kind == xg::DatasetKind::mnist);
        found = xg::find_dataset(xg::DatasetKind::mnist);
        CHECK(found.directory == from_env.string());
        CHECK(found.source == "XGRAD_DATA");
        // For Fashion-MNIST too, XGRAD_DATA wins over the system folder.
        found = xg::find_dataset(xg::DatasetKind::fashion);
        CHECK(found.directory == from_env.string());
        CHECK(found.kind == xg::DatasetKind::fashion);

        // A flag naming a folder without the files is an error, not a reason to look elsewhere.
        const std::string message = io_error([&] { (void)xg::find_dataset(xg::DatasetKind::mnist, empty.string()); });
        CHECK(contains(message, "find_dataset: " + empty.string() + ": not a MNIST folder"));
        CHECK(contains(message, "missing train-images-idx3-ubyte(.gz)"));
    }
    {
        Environment env(std::nullopt, tmp.path);
        const xg::DatasetLocation found = xg::find_dataset(xg::DatasetKind::mnist);
        CHECK(found.directory == "./data/mnist");
        CHECK(found.source == "default");
        CHECK(xg::load_mnist(found.directory).train_images.shape() == xg::ByteArray::shape_type{1, 28, 28});
    }
    {
        // XGRAD_DATA naming a folder without the files: the search goes on to ./data/mnist.
        Environment env(empty.string(), tmp.path);
        CHECK(xg::find_dataset(xg::DatasetKind::mnist).source == "default");
    }
}

TEST_CASE("find_dataset lists every place it looked and how to get the data") {
    MnistTempDir tmp;
    {
        Environment env(std::nullopt, tmp.path);
        const std::string message = io_error([] { (void)xg::find_dataset(xg::DatasetKind::mnist); });
        INFO(message);
        CHECK(contains(message, "find_dataset: MNIST not found (looked in XGRAD_DATA: not set; ./data/mnist ("));
        CHECK(contains(message, "): no such folder)"));
        CHECK(contains(message, "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                                "t10k-labels-idx1-ubyte.gz"));
        CHECK(contains(message, "--dataset fashion"));
        CHECK(contains(message, "apt-get install dataset-fashion-mnist"));
    }
    {
        const fs::path partial = tmp.path / "partial";
        write_fake_mnist(partial, 1, 1);
        fs::remove(partial / "train-labels-idx1-ubyte.gz");
        Environment env(partial.string(), tmp.path);
        const std::string message = io_error([] { (void)xg::find_dataset(xg::DatasetKind::mnist); });
        INFO(message);
        CHECK(contains(message, "XGRAD_DATA=" + partial.string() + ": missing train-labels-idx1-ubyte(.gz)"));
        CHECK(contains(message, "./data/mnist"));
    }
}

TEST_CASE("Fashion-MNIST: the Debian folder is the default, and auto mode falls back to it") {
    CHECK(xg::default_dataset_dir(xg::DatasetKind::mnist) == "./data/mnist");
    CHECK(xg::default_dataset_dir(xg::DatasetKind::fashion) == "/usr/share/datasets/fashion-mnist");
    CHECK(xg::dataset_name(xg::DatasetKind::fashion) == "Fashion-MNIST");
    const auto names = xg::class_names(xg::DatasetKind::fashion);
    REQUIRE(names.size() == 10);
    CHECK(names[0] == "T-shirt/top");
    CHECK(names[9] == "Ankle boot");
    CHECK(xg::class_names(xg::DatasetKind::mnist)[7] == "7");

    MnistTempDir tmp;
    write_fake_mnist(tmp.path / "data" / "mnist", 1, 1);
    {
        Environment env(std::nullopt, tmp.path);
        const xg::DatasetLocation found = xg::find_dataset_auto();
        CHECK(found.kind == xg::DatasetKind::mnist);
        CHECK(found.directory == "./data/mnist");
    }
    fs::remove_all(tmp.path / "data");
    Environment env(std::nullopt, tmp.path);
    const std::string fashion_dir = xg::default_dataset_dir(xg::DatasetKind::fashion);
    if (!xg::has_mnist_files(fashion_dir)) {
        MESSAGE("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): skipping its checks");
        const std::string message = io_error([] { (void)xg::find_dataset_auto(); });
        CHECK(contains(message, "find_dataset_auto: neither MNIST nor Fashion-MNIST found"));
        CHECK(contains(message, fashion_dir));
        CHECK(contains(io_error([] { (void)xg::find_dataset(xg::DatasetKind::fashion); }),
                       "find_dataset: Fashion-MNIST not found"));
        return;
    }
    const xg::DatasetLocation found = xg::find_dataset_auto();
    CHECK(found.kind == xg::DatasetKind::fashion);
    CHECK(found.directory == fashion_dir);
    CHECK(found.source == "default");
    CHECK(xg::find_dataset(xg::DatasetKind::fashion).directory == fashion_dir);

    const xg::MnistData d = xg::load_mnist(fashion_dir);
    CHECK(d.train_images.shape() == xg::ByteArray::shape_type{60000, 28, 28});
    CHECK(d.train_labels.shape() == xg::ByteArray::shape_type{60000});
    CHECK(d.test_images.shape() == xg::ByteArray::shape_type{10000, 28, 28});
    CHECK(d.test_labels.shape() == xg::ByteArray::shape_type{10000});
    // Fashion-MNIST is balanced: 6000 training and 1000 test images per class.
    for (auto count : histogram(d.train_labels)) CHECK(count == 6000);
    for (auto count : histogram(d.test_labels)) CHECK(count == 1000);
}

TEST_CASE("auto mode tells Fashion-MNIST from MNIST in a folder given by flag or XGRAD_DATA") {
    // Both have the same file names and format; only Fashion-MNIST's published labels are Fashion-MNIST.
    CHECK(xg::find_dataset_auto(XGRAD_MNIST_DIR).kind == xg::DatasetKind::mnist);
    MnistTempDir tmp;
    write_fake_mnist(tmp.path / "other", 3, 2);
    CHECK(xg::find_dataset_auto((tmp.path / "other").string()).kind == xg::DatasetKind::mnist);
    const std::string fashion_dir = xg::default_dataset_dir(xg::DatasetKind::fashion);
    if (!xg::has_mnist_files(fashion_dir)) {
        MESSAGE("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): skipping its checks");
        return;
    }
    const xg::DatasetLocation by_flag = xg::find_dataset_auto(fashion_dir);
    CHECK(by_flag.kind == xg::DatasetKind::fashion);
    CHECK(by_flag.source == "flag");
    // The user's word stands when the kind is asked for.
    CHECK(xg::find_dataset(xg::DatasetKind::mnist, fashion_dir).kind == xg::DatasetKind::mnist);
    Environment env(fashion_dir, tmp.path);
    const xg::DatasetLocation by_env = xg::find_dataset_auto();
    CHECK(by_env.kind == xg::DatasetKind::fashion);
    CHECK(by_env.source == "XGRAD_DATA");
}
