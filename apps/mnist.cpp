// The Keras "first look at a neural network" example (Deep Learning with Python, 2.1),
// end to end: load MNIST, Dense(512, relu) -> Dense(10, softmax), RMSprop, categorical
// cross-entropy, fit for 5 epochs of batch 128, evaluate on the test set. With --model
// convnet, the book's first convnet (5.1) instead, 5 epochs of batch 64.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/core/threads.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/data/image_dataset.hpp"
#include "xgrad/data/mnist.hpp"
#include "xgrad/dist/communicator.hpp"
#include "xgrad/graph/layer_graph.hpp"
#include "xgrad/graph/op_graph.hpp"
#include "xgrad/graph/render.hpp"
#include "xgrad/io/model_file.hpp"
#include "xgrad/io/onnx_export.hpp"
#include "xgrad/io/weights.hpp"
#include "xgrad/nn/conv2d.hpp"
#include "xgrad/nn/dense.hpp"
#include "xgrad/nn/flatten.hpp"
#include "xgrad/nn/image_augmentation.hpp"
#include "xgrad/nn/pooling.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/plot/confusion.hpp"
#include "xgrad/plot/figure.hpp"
#include "xgrad/plot/history_plot.hpp"
#include "xgrad/plot/sample_grid.hpp"
#include "xgrad/train/checkpoint.hpp"
#include "xgrad/train/csv_logger.hpp"
#include "xgrad/train/model.hpp"

namespace {

// CPU time and peak memory of each epoch, for the benchmark: CPU time tells a slow epoch
// from one that waited for a busy core, and the peak memory shows whether it stays flat.
class ResourceMeter : public xg::Callback {
public:
    void on_epoch_begin(xg::Model&, std::size_t) override { cpu_at_start_ = usage().cpu_seconds; }
    void on_epoch_end(xg::Model&, std::size_t, const xg::Logs&) override {
        const Usage now = usage();
        cpu_seconds.push_back(now.cpu_seconds - cpu_at_start_);
        peak_rss_mib.push_back(now.peak_rss_mib);
    }
    std::vector<double> cpu_seconds, peak_rss_mib;

private:
    struct Usage {
        double cpu_seconds, peak_rss_mib;
    };
    static Usage usage() {
        rusage u{};
        getrusage(RUSAGE_SELF, &u);
        auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
        return {seconds(u.ru_utime) + seconds(u.ru_stime), static_cast<double>(u.ru_maxrss) / 1024.0};  // ru_maxrss is in KiB
    }
    double cpu_at_start_ = 0;
};

struct Flags {
    std::string data;
    std::string dataset = "auto";
    std::string model = "dense";
    std::size_t epochs = 0;      // 0: the model's default
    std::size_t batch_size = 0;  // 0: the model's default
    std::size_t train_limit = 0;  // 0: all
    std::vector<std::size_t> hidden{512};  // the dense model's hidden widths
    bool augment = false;  // random rotations, zooms and shifts in front of the convnet
    double validation_split = 0.0;
    float learning_rate = 0.001f;
    bool learning_rate_given = false;
    std::uint64_t seed = 1;
    int threads = 0;
    std::string graph;
    std::string graph_view = "ops";
    std::string save;
    std::string save_model;
    std::string export_onnx;
    std::string checkpoint;
    bool resume = false;
    std::string plot, csv, confusion, errors, augmented;
    bool detect_anomaly = false;
    bool json = false;
    int verbose = 1;
};

// "[5, 0, 4, ..., 5, 6, 8]" as numpy prints a long label array.
std::string preview_labels(const xg::ByteArray& labels) {
    const std::size_t n = labels.size();
    if (n <= 6) return fmt::format("[{}]", fmt::join(labels.begin(), labels.end(), ", "));
    return fmt::format("[{}, {}, {}, ..., {}, {}, {}]", labels(0), labels(1), labels(2), labels(n - 3), labels(n - 2),
                       labels(n - 1));
}

xg::DatasetLocation locate(const Flags& flags) {
    if (flags.dataset == "mnist") return xg::find_dataset(xg::DatasetKind::mnist, flags.data);
    if (flags.dataset == "fashion") return xg::find_dataset(xg::DatasetKind::fashion, flags.data);
    return xg::find_dataset_auto(flags.data);
}

// The training defaults of each model, as the book runs them.
constexpr std::size_t default_epochs = 5;
std::size_t default_batch_size(const std::string& model) { return model == "convnet" ? 64 : 128; }

// The book's models: 2.1's two Dense layers on (784,) vectors, or 5.1's convnet on (28, 28, 1)
// images, with 5.2's data augmentation in front when asked: small turns, zooms and shifts, no
// flips (a mirrored digit is another digit, or none).
std::shared_ptr<xg::Sequential> build_network(const std::string& model, const xg::Shape& sample_shape,
                                              const std::vector<std::size_t>& hidden, bool augment) {
    auto network = std::make_shared<xg::Sequential>();
    if (model == "convnet") {
        if (augment) {
            // Filled with the background (0) where a moved image uncovers its border: Keras's
            // default, reflection, would mirror strokes that reach the edge into the image.
            const xg::ImageAugmentationOptions fill{.fill_mode = xg::FillMode::constant};
            network->emplace<xg::RandomRotation>(0.05f, fill);
            network->emplace<xg::RandomZoom>(0.1f, xg::RandomZoomOptions{.fill_mode = xg::FillMode::constant});
            network->emplace<xg::RandomTranslation>(0.1f, 0.1f, fill);
        }
        network->emplace<xg::Conv2D>(sample_shape[2], 32, xg::Size2{3, 3}, "relu");
        network->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
        network->emplace<xg::Conv2D>(32, 64, xg::Size2{3, 3}, "relu");
        network->emplace<xg::MaxPooling2D>(xg::Size2{2, 2});
        network->emplace<xg::Conv2D>(64, 64, xg::Size2{3, 3}, "relu");
        network->emplace<xg::Flatten>();
        const std::size_t flat = network->output_shape(sample_shape)[0];
        network->emplace<xg::Dense>(flat, 64, "relu");
        network->emplace<xg::Dense>(64, 10, "softmax");
    } else {
        std::size_t width = sample_shape[0];
        for (std::size_t units : hidden) {
            network->emplace<xg::Dense>(width, units, "relu");
            width = units;
        }
        network->emplace<xg::Dense>(width, 10, "softmax");
    }
    return network;
}

// Records one training step's forward pass and loss, writes its graph, and discards it.
void write_step_graph(xg::Model& model, xg::Sequential& network, const xg::Dataset& train, const Flags& flags) {
    if (flags.graph_view == "layers") {
        xg::write_graph(xg::layers_to_dot(network, train.x_shape()), flags.graph);
        return;
    }
    const std::vector<std::size_t> rows = xg::epoch_order(std::min(flags.batch_size, train.size()), false);
    xg::Array xb, yb;
    train.gather(rows, xb, yb);
    xg::Tensor loss = model.forward_loss(xg::input(std::move(xb), "images"), xg::constant(std::move(yb)));
    xg::GraphOptions options;
    options.gradient_path = true;
    xg::write_graph(xg::ops_to_dot(loss, options), flags.graph);
    xg::Tape::current().clear();
}

// The checkpoint to resume from, read by process 0 alone: fit() gives the others its weights,
// optimizer state and epoch orders, so a run of any number of processes resumes it.
std::optional<xg::CheckpointInfo> resume_from(xg::dist::Communicator& world, const std::string& dir, xg::Model& model) {
    std::optional<xg::CheckpointInfo> info = xg::dist::together(world, [&]() -> std::optional<xg::CheckpointInfo> {
        return world.is_root() ? xg::load_checkpoint(dir, model) : std::nullopt;
    });
    std::vector<std::size_t> epochs_done = {info ? info->epochs_done : 0};
    world.broadcast(epochs_done);
    if (!world.is_root() && epochs_done[0] > 0) info = xg::CheckpointInfo{epochs_done[0], {}};
    return info;
}

// The first six training images, each as it is and as the augmentation layers at the front of
// `network` show it in five training steps: what --augment does, at a glance.
void draw_augmented(const Flags& flags, xg::Sequential& network, const xg::Dataset& train,
                    const xg::ByteArray& train_labels, std::ostream& out) {
    constexpr std::size_t variants = 6;
    const std::size_t images = std::min<std::size_t>(6, train.size());
    if (images == 0) return;
    std::vector<std::size_t> rows, labels;
    for (std::size_t i = 0; i < images; ++i) {
        rows.insert(rows.end(), variants, i);
        labels.insert(labels.end(), variants, train_labels(i));
    }
    xg::Array batch, targets;
    train.gather(rows, batch, targets);
    xg::NoGradGuard no_grad;
    xg::ModeGuard training(network, true);
    xg::Tensor x = xg::input(batch);
    for (const auto& layer : network.layers()) {
        if (!dynamic_cast<const xg::RandomImageTransform*>(layer.get())) break;
        x = (*layer)(x);
    }
    // Column 0 keeps the image as it is.
    xg::Array shown = x.value();
    const std::size_t pixels = batch.size() / rows.size();
    for (std::size_t i = 0; i < images; ++i) {
        std::copy_n(batch.data() + i * variants * pixels, pixels, shown.data() + i * variants * pixels);
    }
    xg::plot_samples(shown, labels, {}, flags.augmented,
                     {.columns = variants, .title = "Training images as they are (left) and augmented"});
    out << fmt::format("Wrote {} training images and their augmented forms to {}\n", images, flags.augmented);
}

// The figures asked for, drawn by process 0 after training: the curves, the test set's
// confusion matrix, and the first misclassified test images.
void draw_figures(const Flags& flags, xg::Model& model, const xg::History& history, const xg::Dataset& test, std::ostream& out) {
    if (!flags.plot.empty()) {
        xg::plot_history(history, flags.plot);
        out << fmt::format("Wrote the training curves to {}\n", flags.plot);
    }
    if (flags.confusion.empty() && flags.errors.empty()) return;
    const xg::Classification classes = xg::classify(model, test, flags.batch_size);
    if (!flags.confusion.empty()) {
        const xg::ConfusionMatrix matrix = xg::confusion_matrix(classes);
        out << "\nConfusion matrix of the test set:\n" << matrix;
        xg::plot_confusion_matrix(matrix, flags.confusion, {.title = "Test set"});
        out << fmt::format("Wrote the confusion matrix to {}\n", flags.confusion);
    }
    if (!flags.errors.empty()) {
        constexpr std::size_t shown = 36;
        std::vector<std::size_t> rows, truth, predicted;
        for (std::size_t i = 0; i < classes.true_labels.size() && rows.size() < shown; ++i) {
            if (classes.true_labels[i] == classes.predicted_labels[i]) continue;
            rows.push_back(i);
            truth.push_back(classes.true_labels[i]);
            predicted.push_back(classes.predicted_labels[i]);
        }
        if (rows.empty()) {
            out << fmt::format("No misclassified test images: {} not written\n", flags.errors);
            return;
        }
        xg::Array images, targets;
        test.gather(rows, images, targets);
        xg::plot_samples(images, truth, predicted, flags.errors,
                         {.title = fmt::format("The first {} misclassified test images", rows.size())});
        out << fmt::format("Wrote {} misclassified test images to {}\n", rows.size(), flags.errors);
    }
}

int run(const Flags& flags) {
    // Started by mpirun with several processes, each trains on its share of every batch;
    // process 0 alone prints and writes files.
    xg::dist::Communicator world;
    std::ostream discard(nullptr);
    std::ostream& out = world.is_root() ? std::cout : discard;
    xg::manual_seed(flags.seed);
    if (flags.threads > 0) {
        xg::set_num_threads(flags.threads);
    } else if (const std::size_t local = world.local_size(); local > 1) {
        // Processes on one machine share its cores.
        xg::set_num_threads(std::max(1, xg::num_threads() / static_cast<int>(local)));
    }
    xg::set_anomaly_detection(flags.detect_anomaly);
    // A mistyped figure path fails now, not after training.
    xg::dist::together(world, [&] {
        if (!world.is_root()) return;
        for (const std::string* figure : {&flags.plot, &flags.confusion, &flags.errors, &flags.augmented}) {
            if (!figure->empty()) xg::check_figure_path(*figure, "mnist");
        }
    });

    // A process that cannot find or read the data stops every process, and process 0 says why.
    const xg::DatasetLocation where = xg::dist::together(world, [&] { return locate(flags); });
    out << fmt::format("Using {} from {} ({})\n", xg::dataset_name(where.kind), where.directory, where.source);
    const xg::MnistData data = xg::dist::together(world, [&] { return xg::load_mnist(where.directory); });
    out << fmt::format("train_images.shape: {}\n", xg::format_shape(data.train_images.shape()));
    out << fmt::format("train_labels: {} ({} labels)\n", preview_labels(data.train_labels), data.train_labels.size());
    out << fmt::format("test_images.shape: {}\n", xg::format_shape(data.test_images.shape()));
    out << fmt::format("test_labels: {} ({} labels)\n\n", preview_labels(data.test_labels), data.test_labels.size());

    // The example's preprocessing (reshape to (N, 784), or to (N, 28, 28, 1) for the convnet,
    // bytes / 255, to_categorical) is applied a batch at a time, so the data stays in its
    // compact byte form.
    const xg::Shape& image = data.train_images.shape();
    const xg::Shape sample_shape =
        flags.model == "convnet" ? xg::Shape{image[1], image[2], 1} : xg::Shape{image[1] * image[2]};
    const xg::ImageDataset all_train(data.train_images, data.train_labels, sample_shape);
    const xg::SubsetDataset train(all_train, 0, std::min(flags.train_limit > 0 ? flags.train_limit : all_train.size(),
                                                         all_train.size()));
    if (train.size() < all_train.size()) {
        out << fmt::format("Training on the first {} of {} images\n\n", train.size(), all_train.size());
    }
    const xg::ImageDataset test(data.test_images, data.test_labels, sample_shape);

    auto network = build_network(flags.model, sample_shape, flags.hidden, flags.augment);
    out << network->summary(sample_shape) << "\n";

    xg::Model model(network);
    model.compile(std::make_shared<xg::RMSprop>(network->parameters(), xg::RMSpropOptions{.learning_rate = flags.learning_rate}),
                  "categorical_crossentropy", {"accuracy"});
    if (world.size() > 1) {
        model.set_data_parallel(xg::dist::data_parallel());
        out << fmt::format("Data-parallel: {} processes share each batch of {} samples\n\n", world.size(), flags.batch_size);
    }
    if (!flags.graph.empty() && world.is_root()) {
        write_step_graph(model, *network, train, flags);
        out << fmt::format("Wrote the {} graph to {}\n", flags.graph_view == "layers" ? "layer" : "training-step", flags.graph);
    }

    xg::FitOptions fit;
    fit.epochs = flags.epochs;
    fit.batch_size = flags.batch_size;
    fit.verbose = flags.verbose;
    fit.validation_split = flags.validation_split;
    auto meter = std::make_shared<ResourceMeter>();
    fit.callbacks.push_back(meter);
    std::shared_ptr<xg::CheckpointCallback> checkpoints;
    if (!flags.checkpoint.empty()) {
        xg::History so_far;
        if (flags.resume) {
            if (auto info = resume_from(world, flags.checkpoint, model)) {
                out << fmt::format("Resuming from epoch {} of {}\n", info->epochs_done, flags.checkpoint);
                const float restored = model.optimizer().learning_rate();
                if (flags.learning_rate_given && restored != flags.learning_rate) {
                    out << fmt::format("Note: --learning-rate {} is ignored; the checkpoint's optimizer continues at {}\n",
                                       flags.learning_rate, restored);
                }
                if (info->epochs_done >= flags.epochs) {
                    out << fmt::format("Note: the checkpoint already holds {} epochs; --epochs {} trains none\n",
                                       info->epochs_done, flags.epochs);
                }
                fit.initial_epoch = info->epochs_done;
                so_far = std::move(info->history);
            } else {
                out << fmt::format("No checkpoint in {} yet; starting from epoch 0\n", flags.checkpoint);
            }
        }
        checkpoints = std::make_shared<xg::CheckpointCallback>(flags.checkpoint, std::move(so_far));
        fit.callbacks.push_back(checkpoints);
    }
    if (!flags.csv.empty()) {
        fit.callbacks.push_back(std::make_shared<xg::CsvLogger>(flags.csv, xg::CsvLoggerOptions{.append = flags.resume}));
    }
    const auto start = std::chrono::steady_clock::now();
    xg::History history = model.fit(train, fit);
    if (checkpoints) history = checkpoints->history();  // with the epochs before a resume
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const xg::Logs scores = model.evaluate(test, flags.batch_size);
    const double test_loss = xg::log_value(scores, "loss"), test_accuracy = xg::log_value(scores, "accuracy");
    out << fmt::format("test_loss: {:.4f}\ntest_acc: {:.4f}\n", test_loss, test_accuracy);

    if (!flags.save.empty() && world.is_root()) {
        xg::save_weights(*network, flags.save);
        out << fmt::format("Saved the trained weights to {}\n", flags.save);
    }
    if (!flags.save_model.empty() && world.is_root()) {
        xg::save_model(*network, flags.save_model);
        out << fmt::format("Saved the model (architecture and weights) to {}\n", flags.save_model);
    }
    if (!flags.export_onnx.empty() && world.is_root()) {
        xg::Shape example{1};
        example.insert(example.end(), sample_shape.begin(), sample_shape.end());
        xg::export_onnx(*network, xg::Array(xt::zeros<float>(example)), flags.export_onnx);
        out << fmt::format("Exported the model to ONNX: {}\n", flags.export_onnx);
    }
    if (world.is_root()) draw_figures(flags, model, history, test, out);
    // After training, so that drawing the random variants leaves the run's own draws as they were.
    if (world.is_root() && !flags.augmented.empty()) draw_augmented(flags, *network, train, data.train_labels, out);
    if (flags.json) {
        nlohmann::json j = {
            {"dataset", where.kind == xg::DatasetKind::mnist ? "mnist" : "fashion"},
            {"model", flags.model},
            {"augment", flags.augment},
            // Epochs the model has been trained for: a resumed run counts the checkpoint's too, so
            // this matches train_loss's length even when --epochs asked for fewer.
            {"epochs", history["loss"].size()},
            {"epochs_requested", flags.epochs},
            {"batch_size", flags.batch_size},
            {"seed", flags.seed},
            {"world_size", world.size()},
            {"threads", xg::num_threads()},
            {"test_accuracy", test_accuracy},
            {"test_loss", test_loss},
            {"epoch_seconds", history.epoch_seconds},
            {"epoch_cpu_seconds", meter->cpu_seconds},
            {"epoch_peak_rss_mib", meter->peak_rss_mib},
            {"train_seconds", train_seconds},
            {"train_loss", history["loss"]},
            {"train_accuracy", history["accuracy"]},
        };
        // With --validation-split, the held-out part's figures per epoch, as Keras's history has them.
        for (const char* key : {"val_loss", "val_accuracy"}) {
            if (history.values.count(key)) j[key] = history[key];
        }
        out << j.dump() << "\n";
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    xg::dist::Environment mpi(argc, argv);
    Flags flags;
    CLI::App app{"Trains the Keras MNIST examples with xgrad: Dense 512 relu -> Dense 10 softmax (--model dense), or "
                 "the book's convnet (--model convnet); RMSprop"};
    app.add_option("--data", flags.data, "Folder with the four MNIST IDX files (.gz or raw); default: $XGRAD_DATA, "
                                         "then ./data/mnist");
    app.add_option("--dataset", flags.dataset, "mnist, fashion, or auto (a --data or XGRAD_DATA folder's labels tell which; else MNIST if found, else "
                   "Fashion-MNIST)")
        ->check(CLI::IsMember({"auto", "mnist", "fashion"}));
    app.add_option("--model", flags.model,
                   "dense (Dense 512 relu -> Dense 10 softmax) or convnet (3 Conv2D, 2 MaxPooling2D, Dense 64 -> "
                   "Dense 10)")
        ->check(CLI::IsMember({"dense", "convnet"}))
        ->capture_default_str();
    app.add_option("--epochs", flags.epochs, "Passes over the training set")
        ->check(CLI::Range(1, 100000))
        ->default_str("5");
    app.add_option("--batch-size", flags.batch_size, "Samples per step")
        ->check(CLI::Range(1, 1 << 20))
        ->default_str("128 dense, 64 convnet");
    auto* learning_rate = app.add_option("--learning-rate", flags.learning_rate, "RMSprop learning rate (a resumed run "
                                         "keeps its checkpoint's)")->check(CLI::Range(1e-12f, 1e6f));
    auto* hidden = app.add_option("--hidden", flags.hidden, "The dense model's hidden layers, e.g. 2048,2048 (default: 512; --model dense only)")
        ->delimiter(',')
        ->check(CLI::Range(1, 1 << 20));
    auto* augment = app.add_flag("--augment", flags.augment,
                                 "Put RandomRotation(0.05), RandomZoom(0.1) and RandomTranslation(0.1, 0.1) (constant fill) in front of "
                                 "the convnet: every training image turned, zoomed and shifted a little at random, anew "
                                 "each epoch (--model convnet only)");
    app.add_option("--train-limit", flags.train_limit, "Train on the first N training images only (quick runs)")
        ->check(CLI::Range(1, 1 << 30));
    app.add_option("--validation-split", flags.validation_split,
                   "Hold out this fraction of the training set, its last samples before shuffling, for validation")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--seed", flags.seed, "Seed for weights and shuffling");
    app.add_option("--threads", flags.threads, "Threads for the matrix products and the parallel loops (default: OPENBLAS_NUM_THREADS, else all cores)")->check(CLI::Range(1, 256));
    app.add_option("--graph", flags.graph, "Write the graph of one training step (.dot, .gv, .svg, .png, .pdf)");
    app.add_option("--graph-view", flags.graph_view, "ops (recorded ops) or layers (one box per layer)")
        ->check(CLI::IsMember({"ops", "layers"}));
    app.add_option("--save", flags.save, "Write the trained weights to this .npz file");
    app.add_option("--save-model", flags.save_model,
                   "Write the model (architecture and weights) to this .npz file, for apps/predict or xg::load_model");
    app.add_option("--export-onnx", flags.export_onnx,
                   "Write the trained model as an ONNX file (opset 13, channels-last input), for ONNX Runtime and others");
    auto* checkpoint = app.add_option("--checkpoint", flags.checkpoint,
                                      "Write a checkpoint (weights, optimizer, epoch, random state) to this folder "
                                      "after every epoch");
    app.add_flag("--resume", flags.resume, "Continue from the checkpoint in the --checkpoint folder, if there is one")
        ->needs(checkpoint);
    app.add_option("--plot", flags.plot, "Draw loss and accuracy against epoch, training and validation (.svg, .png, .pdf)");
    app.add_option("--csv", flags.csv, "Write one CSV row of logs per epoch (continued with --resume)");
    app.add_option("--confusion", flags.confusion, "Draw the test set's confusion matrix (.svg, .png, .pdf)");
    app.add_option("--errors", flags.errors, "Draw the first 36 misclassified test images (.svg, .png, .pdf)");
    app.add_option("--augmented", flags.augmented,
                   "Draw the first 6 training images as they are and as --augment shows them, five times each (.svg, .png, .pdf)")
        ->needs(augment);
    app.add_flag("--detect-anomaly", flags.detect_anomaly,
                 "Check every op's output and gradient for NaN/Inf and name the first op that produced one");
    app.add_flag("--json", flags.json,
                 "End with one line of JSON: test_accuracy, test_loss, epoch_seconds, train_loss, ... (and "
                 "val_loss, val_accuracy with --validation-split)");
    app.add_option("--verbose", flags.verbose, "0 silent, 1 progress bar, 2 one line per epoch")->check(CLI::Range(0, 2));
    try {
        app.parse(argc, argv);
        flags.learning_rate_given = learning_rate->count() > 0;
        if (augment->count() > 0 && flags.model != "convnet") {
            throw CLI::ValidationError("--augment", "transforms images, which --model " + flags.model +
                                                        " does not take; expected --model convnet");
        }
        if (hidden->count() > 0 && flags.model != "dense") {
            throw CLI::ValidationError("--hidden", "sets the dense model's hidden layers (--model " + flags.model +
                                                       "); expected --model dense");
        }
    } catch (const CLI::ParseError& e) {
        // Every process parses the same arguments; process 0 alone prints help and errors.
        std::ostream discard(nullptr);
        return xg::dist::Communicator().is_root() ? app.exit(e) : app.exit(e, discard, discard);
    }
    if (flags.epochs == 0) flags.epochs = default_epochs;
    if (flags.batch_size == 0) flags.batch_size = default_batch_size(flags.model);
    try {
        return run(flags);
    } catch (const std::exception& e) {
        return mpi.fail("mnist", e);
    }
}
