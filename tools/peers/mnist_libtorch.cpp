// libtorch (C++ frontend) peer of the reference model, for tools/benchmark.
//
// Dense(784->512, relu) -> Dense(512->10, softmax) on MNIST, trained as Keras trains it:
// glorot_uniform weights, zero biases, RMSprop(lr=1e-3, rho=0.9, eps=1e-7 outside the sqrt),
// batch 128 reshuffled every epoch, categorical cross-entropy. The last stdout line is JSON.
//
// --hidden 2048,2048 gives the model other hidden layers (784 -> 2048 -> 2048 -> 10), and
// --train-limit N trains on the first N images. --latency N instead times N single-image
// predictions (forward and softmax under InferenceMode, after N / 10 warm-up calls) of the
// model with its initial weights and prints their median and 90th percentile.
//
// Not part of the meson build (libtorch is optional and heavy); tools/benchmark compiles it
// on demand when libtorch-dev is installed.
#include <torch/torch.h>
#include <zlib.h>

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t image_magic = 2051;
constexpr std::uint32_t label_magic = 2049;

std::vector<std::uint8_t> gunzip(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw std::runtime_error(path + ": cannot open");
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> chunk(1 << 20);
    int got;
    while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
        out.insert(out.end(), chunk.begin(), chunk.begin() + got);
    const bool failed = got < 0;
    gzclose(file);
    if (failed) throw std::runtime_error(path + ": not a valid gzip stream");
    return out;
}

std::uint32_t big_endian(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// The IDX body as a uint8 tensor of the file's dims, after checking magic and size.
torch::Tensor read_idx(const std::string& path, std::uint32_t magic, std::size_t rank) {
    std::vector<std::uint8_t> bytes = gunzip(path);
    const std::size_t header = 4 + 4 * rank;
    if (bytes.size() < header || big_endian(bytes.data()) != magic)
        throw std::runtime_error(path + ": not an IDX file with magic " + std::to_string(magic));
    std::vector<std::int64_t> dims;
    std::size_t count = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        dims.push_back(big_endian(bytes.data() + 4 + 4 * i));
        count *= static_cast<std::size_t>(dims.back());
    }
    if (bytes.size() - header != count)
        throw std::runtime_error(path + ": " + std::to_string(bytes.size() - header) + " bytes of data; expected " +
                                 std::to_string(count));
    return torch::from_blob(bytes.data() + header, dims, torch::kUInt8).clone();
}

struct Split {
    torch::Tensor x;  // (n, 784) float32 in [0, 1]
    torch::Tensor y;  // (n,) int64 class indices; cross_entropy on them equals it on one-hot
};

Split load_split(const std::string& dir, const std::string& prefix) {
    torch::Tensor images = read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", image_magic, 3);
    torch::Tensor labels = read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", label_magic, 1);
    if (images.size(0) != labels.size(0))
        throw std::runtime_error(prefix + ": " + std::to_string(images.size(0)) + " images but " +
                                 std::to_string(labels.size(0)) + " labels");
    return {images.reshape({images.size(0), -1}).to(torch::kFloat32).div_(255.0f), labels.to(torch::kInt64)};
}

struct Options {
    std::string data;
    int epochs = 5;
    int batch_size = 128;
    int threads = 0;
    std::uint64_t seed = 0;
    std::vector<std::int64_t> hidden{512};
    std::int64_t train_limit = 0;  // 0: all
    int latency = 0;               // > 0: time this many single-image predictions instead of training
};

std::vector<std::int64_t> parse_widths(const std::string& text) {
    std::vector<std::int64_t> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        out.push_back(std::stoll(text.substr(start, comma - start)));
        if (out.back() < 1) throw std::invalid_argument("width");
        start = comma + 1;
    }
    return out;
}

int cores_available() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
    return 1;
}

[[noreturn]] void usage(const char* problem) {
    std::fprintf(stderr,
                 "mnist_libtorch: %s\n"
                 "usage: mnist_libtorch [--data DIR] [--epochs N] [--batch-size N] [--threads N] [--seed N]\n"
                 "                      [--hidden W,W...] [--train-limit N] [--latency N]\n",
                 problem);
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    const char* env = std::getenv("XGRAD_DATA");
    o.data = env ? env : "../shared/data/mnist";
    o.threads = cores_available();
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") usage("trains the reference model with libtorch");
        if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
        const std::string value = argv[++i];
        try {
            if (flag == "--data") o.data = value;
            else if (flag == "--epochs") o.epochs = std::stoi(value);
            else if (flag == "--batch-size") o.batch_size = std::stoi(value);
            else if (flag == "--threads") o.threads = std::stoi(value);
            else if (flag == "--seed") o.seed = std::stoull(value);
            else if (flag == "--hidden") o.hidden = parse_widths(value);
            else if (flag == "--train-limit") o.train_limit = std::stoll(value);
            else if (flag == "--latency") o.latency = std::stoi(value);
            else usage(("unknown flag " + flag).c_str());
        } catch (const std::logic_error&) {
            usage(("not a number after " + flag + ": " + value).c_str());
        }
    }
    if (o.epochs < 1 || o.batch_size < 1 || o.threads < 1) usage("--epochs, --batch-size and --threads must be >= 1");
    if (o.train_limit < 0 || o.latency < 0) usage("--train-limit and --latency must be >= 0");
    return o;
}

struct NetImpl : torch::nn::Module {
    explicit NetImpl(const std::vector<std::int64_t>& hidden) {
        std::int64_t width = 784;
        std::vector<std::int64_t> units = hidden;
        units.push_back(10);
        // torch stores weights as (out, in), Keras as (in, out); the glorot limit
        // sqrt(6 / (in + out)) is symmetric in the two, so xavier_uniform_ matches.
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < units.size(); ++i) {
            layers.push_back(register_module("dense_" + std::to_string(i + 1), torch::nn::Linear(width, units[i])));
            torch::nn::init::xavier_uniform_(layers.back()->weight);
            torch::nn::init::zeros_(layers.back()->bias);
            width = units[i];
        }
    }
    // Logits; the softmax lives in the loss.
    torch::Tensor forward(torch::Tensor x) {
        for (std::size_t i = 0; i + 1 < layers.size(); ++i) x = torch::relu(layers[i](x));
        return layers.back()(x);
    }

    std::vector<torch::nn::Linear> layers;
};
TORCH_MODULE(Net);

// Single-image predictions of the initial model on one fixed random image: libtorch's best
// path for inference (InferenceMode, no autograd bookkeeping), the softmax included.
int latency(const Options& opt) {
    Net net(opt.hidden);
    net->eval();
    const torch::Tensor image = torch::rand({1, 784});
    std::vector<double> micros;
    micros.reserve(static_cast<std::size_t>(opt.latency));
    float sink = 0.0f;
    const int warm = std::max(1, opt.latency / 10);
    for (int i = 0; i < warm + opt.latency; ++i) {
        const auto start = std::chrono::steady_clock::now();
        torch::Tensor p;
        {
            torch::InferenceMode guard;
            p = torch::softmax(net->forward(image), 1);
        }
        const auto stop = std::chrono::steady_clock::now();
        sink += p.data_ptr<float>()[0];
        if (i >= warm) micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    }
    std::sort(micros.begin(), micros.end());
    std::printf("{\"impl\": \"libtorch\", \"threads\": %d, \"calls\": %d, \"median_us\": %.3f, \"p90_us\": %.3f, "
                "\"checksum\": %.6f}\n",
                torch::get_num_threads(), opt.latency, micros[micros.size() / 2], micros[micros.size() * 9 / 10],
                static_cast<double>(sink));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    torch::set_num_threads(opt.threads);
    torch::manual_seed(opt.seed);
    if (opt.latency > 0) return latency(opt);

    Split train, test;
    try {
        train = load_split(opt.data, "train");
        test = load_split(opt.data, "t10k");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mnist_libtorch: cannot read MNIST from %s: %s\n", opt.data.c_str(), e.what());
        return 1;
    }
    if (opt.train_limit > 0 && opt.train_limit < train.x.size(0)) {
        train.x = train.x.slice(0, 0, opt.train_limit);
        train.y = train.y.slice(0, 0, opt.train_limit);
    }

    Net net(opt.hidden);
    // torch's RMSprop adds eps outside the sqrt, as Keras does; alpha is Keras's rho.
    torch::optim::RMSprop optimizer(net->parameters(),
                                    torch::optim::RMSpropOptions(1e-3).alpha(0.9).eps(1e-7));
    const std::int64_t n = train.x.size(0);
    auto generator = at::make_generator<at::CPUGeneratorImpl>(opt.seed);

    // Process CPU time (all threads) beside wall time: it does not count waiting for a core
    // that another program holds, so a single-threaded run can be timed on a busy machine.
    std::vector<double> epoch_seconds, epoch_cpu_seconds, train_loss;
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        const std::clock_t cpu_start = std::clock();
        torch::Tensor perm = torch::randperm(n, generator, torch::kInt64);
        double total = 0.0;
        // A gather per batch, as Keras and DataLoader do; a shuffled copy of the whole set
        // would cost the same copying but double the data's share of the peak RSS.
        for (std::int64_t first = 0; first < n; first += opt.batch_size) {
            const std::int64_t last = std::min<std::int64_t>(first + opt.batch_size, n);
            torch::Tensor rows = perm.slice(0, first, last);
            torch::Tensor xb = train.x.index_select(0, rows);
            torch::Tensor yb = train.y.index_select(0, rows);
            optimizer.zero_grad();
            torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(xb), yb);
            loss.backward();
            optimizer.step();
            total += loss.item<double>() * static_cast<double>(last - first);
        }
        epoch_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        epoch_cpu_seconds.push_back(static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
        train_loss.push_back(total / static_cast<double>(n));
        std::printf("epoch %d/%d: %.3f s, loss %.4f\n", epoch + 1, opt.epochs, epoch_seconds.back(),
                    train_loss.back());
        std::fflush(stdout);
    }

    double test_loss, test_accuracy;
    {
        torch::NoGradGuard no_grad;
        torch::Tensor logits = net->forward(test.x);
        test_loss = torch::nn::functional::cross_entropy(logits, test.y).item<double>();
        test_accuracy = logits.argmax(1).eq(test.y).to(torch::kFloat64).mean().item<double>();
    }

    auto list = [](const std::vector<double>& v) {
        std::string s = "[";
        char buf[32];
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::snprintf(buf, sizeof buf, "%s%.6f", i ? ", " : "", v[i]);
            s += buf;
        }
        return s + "]";
    };
    double train_seconds = 0;
    for (double s : epoch_seconds) train_seconds += s;
    std::printf("{\"impl\": \"libtorch\", \"threads\": %d, \"epoch_seconds\": %s, \"epoch_cpu_seconds\": %s, "
                "\"train_seconds\": %.6f, \"train_loss\": %s, \"test_accuracy\": %.6f, \"test_loss\": %.6f}\n",
                torch::get_num_threads(), list(epoch_seconds).c_str(), list(epoch_cpu_seconds).c_str(), train_seconds,
                list(train_loss).c_str(),
                test_accuracy, test_loss);
    return 0;
}
