// The book's convnet (5.1) trained from a start another framework can replay: writes the
// initial weights (PREFIX_initial.npz, save_weights's file) and every epoch's sample order
// (PREFIX_order.bin: epochs x samples uint32, little-endian), trains as apps/mnist --model
// convnet does (batch 64, RMSprop, categorical cross-entropy, a new order each epoch), and
// prints each epoch's training loss and test accuracy as JSON. tools/peers/same_start_torch.py
// trains PyTorch from the same weights in the same order: what then differs is arithmetic,
// not the draw of the weights or the batches.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/xgrad.hpp"

namespace {

// The share of the test set whose highest-scoring class is the label, in batches of 1000.
double test_accuracy(xg::Sequential& model, const xg::Array& images, const xg::ByteArray& labels) {
    const xg::Array label_values = xg::labels_to_float(labels);
    const xg::ArrayDataset test(images, label_values);
    const xg::ModeGuard inference(model, false);
    const xg::NoGradGuard no_recording;
    xg::Accuracy accuracy(xg::AccuracyKind::sparse);
    xg::Array xb, yb;
    std::vector<std::size_t> rows;
    for (std::size_t first = 0; first < test.size(); first += 1000) {
        rows.clear();
        for (std::size_t i = first; i < std::min(first + 1000, test.size()); ++i) rows.push_back(i);
        test.gather(rows, xb, yb);
        accuracy.update(model(xg::input(xb)).value(), yb);
    }
    return accuracy.result();
}

int run(const std::string& data_dir, std::uint64_t seed, std::size_t epochs, const std::string& prefix) {
    xg::manual_seed(seed);
    const xg::MnistData data = xg::load_mnist(data_dir);
    xg::Array train_images = xg::images_to_float(data.train_images);
    xg::Array test_images = xg::images_to_float(data.test_images);
    const std::size_t n = train_images.shape()[0];
    train_images.reshape({n, 28, 28, 1});
    test_images.reshape({test_images.shape()[0], 28, 28, 1});

    xg::Sequential model;
    model.emplace<xg::Conv2D>(1, 32, xg::Size2{3, 3}, "relu");
    model.emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    model.emplace<xg::Conv2D>(32, 64, xg::Size2{3, 3}, "relu");
    model.emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
    model.emplace<xg::Conv2D>(64, 64, xg::Size2{3, 3}, "relu");
    model.emplace<xg::Flatten>();
    model.emplace<xg::Dense>(576, 64, "relu");
    model.emplace<xg::Dense>(64, 10, "softmax");
    xg::save_weights(model, prefix + "_initial.npz");

    const std::string order_path = prefix + "_order.bin";
    std::ofstream order_file(order_path, std::ios::binary);
    if (!order_file) throw xg::IoError(fmt::format("same_start: cannot write {}", order_path));
    xg::RMSprop optimizer(model.parameters());
    const xg::Array train_targets = xg::to_categorical(data.train_labels);
    const xg::ArrayDataset train(train_images, train_targets);
    xg::Array xb, yb;
    std::vector<double> losses, accuracies;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        const std::vector<std::size_t> order = xg::epoch_order(n, true);
        for (std::size_t i : order) {
            const std::uint32_t row = static_cast<std::uint32_t>(i);
            const unsigned char bytes[4] = {static_cast<unsigned char>(row), static_cast<unsigned char>(row >> 8),
                                            static_cast<unsigned char>(row >> 16), static_cast<unsigned char>(row >> 24)};
            order_file.write(reinterpret_cast<const char*>(bytes), 4);
        }
        xg::Mean epoch_loss;
        for (std::size_t first = 0; first < n; first += 64) {
            const std::size_t count = std::min<std::size_t>(64, n - first);
            train.gather(std::span(order).subspan(first, count), xb, yb);
            const xg::Activated out = model.call_with_logits(xg::input(xb));
            const xg::Tensor loss = xg::categorical_crossentropy(out.logits, xg::constant(yb), /*from_logits=*/true);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            epoch_loss.add(loss.item(), static_cast<double>(count));
        }
        losses.push_back(epoch_loss.result());
        accuracies.push_back(test_accuracy(model, test_images, data.test_labels));
        std::cerr << fmt::format("epoch {}/{}: loss {:.4f}, test accuracy {:.4f}\n", epoch + 1, epochs, losses.back(),
                                 accuracies.back());
    }
    order_file.close();
    if (!order_file) throw xg::IoError(fmt::format("same_start: cannot write {}", order_path));
    std::cout << fmt::format("{{\"impl\": \"xgrad\", \"seed\": {}, \"train_loss\": [{:.5f}], \"test_accuracy\": [{:.4f}]}}\n",
                             seed, fmt::join(losses, ", "), fmt::join(accuracies, ", "));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"The book's convnet from a start another framework can replay (tools/peers/same_start_torch.py)"};
    std::string data_dir, prefix;
    std::uint64_t seed = 1;
    std::size_t epochs = 5;
    app.add_option("--data", data_dir, "Folder with the four (Fashion-)MNIST IDX files")->required();
    app.add_option("--seed", seed, "Seed for the weights and the orders");
    app.add_option("--epochs", epochs, "Epochs")->check(CLI::Range(1, 1000));
    app.add_option("--out", prefix, "Prefix of the two files written: PREFIX_initial.npz, PREFIX_order.bin")->required();
    CLI11_PARSE(app, argc, argv);
    try {
        return run(data_dir, seed, epochs, prefix);
    } catch (const std::exception& e) {
        std::cerr << "same_start: " << e.what() << "\n";
        return 1;
    }
}
