// The bar for the tape's overhead: the reference model trained with direct sgemm calls and
// plain loops, no tape, no temporaries. It is meant to be straightforward and honest: what a
// careful person would write by hand for this one model, not a tuned kernel library.
//
// Dense(784->512, relu) -> Dense(512->10, softmax) on MNIST, trained as Keras trains it:
// glorot_uniform weights, zero biases, RMSprop(lr=1e-3, rho=0.9, eps=1e-7 outside the sqrt),
// batch 128 reshuffled every epoch, categorical cross-entropy. The last stdout line is JSON.
//
// --gemm-only times just the matrix products of each training step over the same shapes, with
// no data, loops or optimizer: the floor that no implementation can go below. With --hidden it
// does so for any MLP 784 -> hidden... -> 10 (three products per layer but the first, whose
// input gradient is never needed). --gemm-only --update adds the RMSprop update of every weight
// and bias after each step's products, split over the threads as xgrad splits it: the floor for
// any implementation of the exact update (a square root and a division per parameter).
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "xgrad/core/blas.hpp"
#include "xgrad/core/parallel.hpp"
#include "xgrad/core/threads.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t n_in = 784, n_hidden = 512, n_out = 10;
constexpr float learning_rate = 1e-3f, rho = 0.9f, epsilon = 1e-7f;

// ---- data ---------------------------------------------------------------------------------

std::vector<std::uint8_t> gunzip(const std::string& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file) throw std::runtime_error(fmt::format("read_idx: cannot open {}", path));
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> chunk(1 << 20);
    int got;
    while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
        out.insert(out.end(), chunk.begin(), chunk.begin() + got);
    const bool failed = got < 0;
    gzclose(file);
    if (failed) throw std::runtime_error(fmt::format("read_idx: {} is not a valid gzip stream", path));
    return out;
}

std::uint32_t big_endian(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// The body of an IDX file whose dims after the first must be `inner` (784 or 1); returns the
// bytes and sets `count` to the first dim.
std::vector<std::uint8_t> read_idx(const std::string& path, std::uint32_t magic, std::size_t rank,
                                   std::size_t inner, std::size_t& count) {
    std::vector<std::uint8_t> bytes = gunzip(path);
    const std::size_t header = 4 + 4 * rank;
    if (bytes.size() < header || big_endian(bytes.data()) != magic)
        throw std::runtime_error(fmt::format("read_idx: {} has no IDX magic {}; expected an MNIST file", path, magic));
    count = big_endian(bytes.data() + 4);
    std::size_t per_item = 1;
    for (std::size_t i = 1; i < rank; ++i) per_item *= big_endian(bytes.data() + 4 + 4 * i);
    if (per_item != inner)
        throw std::runtime_error(fmt::format("read_idx: {} has {} values per item; expected {}", path, per_item, inner));
    if (bytes.size() - header != count * per_item)
        throw std::runtime_error(fmt::format("read_idx: {} holds {} bytes of data ({}); expected {}", path,
                                             bytes.size() - header, count, count * per_item));
    return {bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end()};
}

struct Split {
    std::size_t size = 0;
    std::vector<float> x;             // (size, 784), pixels / 255
    std::vector<std::uint8_t> label;  // (size,), 0..9; the one-hot rows are never built
};

Split load_split(const std::string& dir, const std::string& prefix) {
    Split s;
    std::size_t n_labels = 0;
    const auto pixels = read_idx(dir + "/" + prefix + "-images-idx3-ubyte.gz", 2051, 3, n_in, s.size);
    s.label = read_idx(dir + "/" + prefix + "-labels-idx1-ubyte.gz", 2049, 1, 1, n_labels);
    if (n_labels != s.size)
        throw std::runtime_error(fmt::format("load_split: {} has {} images but {} labels", prefix, s.size, n_labels));
    s.x.resize(pixels.size());
    for (std::size_t i = 0; i < pixels.size(); ++i) s.x[i] = static_cast<float>(pixels[i]) / 255.0f;
    for (auto l : s.label)
        if (l >= n_out) throw std::runtime_error(fmt::format("load_split: {} has label {}; expected 0..9", prefix, l));
    return s;
}

// ---- model --------------------------------------------------------------------------------

// Keras 2.3 / torch RMSprop over n elements: v = rho v + (1 - rho) g^2; p -= lr g / (sqrt(v) + eps).
void rmsprop(float* __restrict p, const float* __restrict g, float* __restrict v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        v[i] = rho * v[i] + (1.0f - rho) * g[i] * g[i];
        p[i] -= learning_rate * g[i] / (std::sqrt(v[i]) + epsilon);
    }
}

// One parameter with its gradient and RMSprop accumulator, all of the same size.
struct Param {
    std::vector<float> value, grad, mean_square;
    explicit Param(std::size_t n) : value(n, 0.0f), grad(n, 0.0f), mean_square(n, 0.0f) {}

    void rmsprop_step() { rmsprop(value.data(), grad.data(), mean_square.data(), value.size()); }
};

// Keras's glorot_uniform for an (in, out) kernel, drawn in row-major order.
void glorot_uniform(std::vector<float>& w, std::size_t fan_in, std::size_t fan_out, std::mt19937_64& engine) {
    const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
    std::uniform_real_distribution<double> uniform(-limit, limit);
    for (float& v : w) v = static_cast<float>(uniform(engine));
}

struct Model {
    // Kernels are (in, out) as in Keras, so the forward products need no transposes.
    Param w1{n_in * n_hidden}, b1{n_hidden}, w2{n_hidden * n_out}, b2{n_out};

    explicit Model(std::mt19937_64& engine) {
        glorot_uniform(w1.value, n_in, n_hidden, engine);
        glorot_uniform(w2.value, n_hidden, n_out, engine);
    }
};

// Activations and their gradients for one batch of at most `capacity` rows, allocated once.
struct Buffers {
    std::vector<float> x, h, logits, d_logits, d_h;
    explicit Buffers(std::size_t capacity)
        : x(capacity * n_in), h(capacity * n_hidden), logits(capacity * n_out), d_logits(capacity * n_out),
          d_h(capacity * n_hidden) {}
};

// h = relu(x . w1 + b1), logits = h . w2 + b2, for the first `rows` rows of the buffers.
void forward(const Model& m, Buffers& b, std::size_t rows) {
    // (rows, 784) . (784, 512) -> (rows, 512)
    xg::gemm(b.x.data(), m.w1.value.data(), b.h.data(), rows, n_hidden, n_in, false, false);
    const float* __restrict bias1 = m.b1.value.data();
    for (std::size_t i = 0; i < rows; ++i) {
        float* __restrict row = b.h.data() + i * n_hidden;
        for (std::size_t j = 0; j < n_hidden; ++j) row[j] = std::max(row[j] + bias1[j], 0.0f);
    }
    // (rows, 512) . (512, 10) -> (rows, 10)
    xg::gemm(b.h.data(), m.w2.value.data(), b.logits.data(), rows, n_out, n_hidden, false, false);
    const float* __restrict bias2 = m.b2.value.data();
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < n_out; ++j) b.logits[i * n_out + j] += bias2[j];
}

// Mean categorical cross-entropy of softmax(logits) against the labels, summed over the rows
// (the caller divides); when `d_logits` is given it receives d(mean loss)/d(logits) =
// (softmax - one_hot) / rows, the softmax and the loss fused so no probability is stored.
double softmax_cross_entropy(const float* logits, const std::uint8_t* labels, std::size_t rows, float* d_logits) {
    double total = 0.0;
    const float inv_rows = 1.0f / static_cast<float>(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        const float* z = logits + i * n_out;
        const float top = *std::max_element(z, z + n_out);
        float e[n_out];
        float sum = 0.0f;
        for (std::size_t j = 0; j < n_out; ++j) sum += e[j] = std::exp(z[j] - top);
        // -log softmax(z)[y] = log(sum) - (z[y] - top)
        total += std::log(sum) - (z[labels[i]] - top);
        if (d_logits) {
            float* d = d_logits + i * n_out;
            const float scale = inv_rows / sum;
            for (std::size_t j = 0; j < n_out; ++j) d[j] = e[j] * scale;
            d[labels[i]] -= inv_rows;
        }
    }
    return total;
}

// Gradients of the mean loss for the batch in `b` (after forward) into the params' grad.
double backward(Model& m, Buffers& b, const std::uint8_t* labels, std::size_t rows) {
    const double loss = softmax_cross_entropy(b.logits.data(), labels, rows, b.d_logits.data());
    // d_w2 = h^T (512, rows) . d_logits (rows, 10) -> (512, 10)
    xg::gemm(b.h.data(), b.d_logits.data(), m.w2.grad.data(), n_hidden, n_out, rows, true, false);
    float* __restrict db2 = m.b2.grad.data();
    std::fill(db2, db2 + n_out, 0.0f);
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < n_out; ++j) db2[j] += b.d_logits[i * n_out + j];
    // d_h = d_logits (rows, 10) . w2^T (10, 512) -> (rows, 512)
    xg::gemm(b.d_logits.data(), m.w2.value.data(), b.d_h.data(), rows, n_hidden, n_out, false, true);
    // relu' is h > 0 (h is post-relu); the masked d_h is d(pre-activation), summed for d_b1.
    float* __restrict db1 = m.b1.grad.data();
    std::fill(db1, db1 + n_hidden, 0.0f);
    for (std::size_t i = 0; i < rows; ++i) {
        float* __restrict d = b.d_h.data() + i * n_hidden;
        const float* __restrict h = b.h.data() + i * n_hidden;
        for (std::size_t j = 0; j < n_hidden; ++j) {
            d[j] = h[j] > 0.0f ? d[j] : 0.0f;
            db1[j] += d[j];
        }
    }
    // d_w1 = x^T (784, rows) . d_pre (rows, 512) -> (784, 512)
    xg::gemm(b.x.data(), b.d_h.data(), m.w1.grad.data(), n_in, n_hidden, rows, true, false);
    return loss;
}

struct Options {
    std::string data;
    int epochs = 5;
    std::size_t batch_size = 128;
    int threads = 0;  // 0: leave OpenBLAS's own choice (OPENBLAS_NUM_THREADS or all cores)
    std::uint64_t seed = 0;
    bool gemm_only = false;
    bool update = false;                        // --gemm-only: and the RMSprop update
    std::vector<std::size_t> hidden{n_hidden};  // --gemm-only's hidden widths
    std::size_t train_limit = 0;                // rows per epoch: the first N images (0: all)
};

std::string json_list(const std::vector<double>& v) { return fmt::format("[{:.6f}]", fmt::join(v, ", ")); }

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Process CPU time (all threads): unlike wall time it does not count waiting for a core that
// another program holds, so a single-threaded run can be timed on a busy machine.
double cpu_seconds_since(std::clock_t start) {
    return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}

int train(const Options& opt) {
    Split train_set = load_split(opt.data, "train");
    if (opt.train_limit > 0 && opt.train_limit < train_set.size) {
        train_set.size = opt.train_limit;
        train_set.x.resize(train_set.size * n_in);
        train_set.label.resize(train_set.size);
    }
    const Split test_set = load_split(opt.data, "t10k");

    std::mt19937_64 engine(opt.seed);
    Model model(engine);
    Param* params[] = {&model.w1, &model.b1, &model.w2, &model.b2};
    Buffers buf(opt.batch_size);
    std::vector<std::uint32_t> order(train_set.size);
    std::iota(order.begin(), order.end(), 0u);
    std::vector<std::uint8_t> labels(opt.batch_size);

    std::vector<double> epoch_seconds, epoch_cpu_seconds, train_loss;
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
        const auto start = Clock::now();
        const std::clock_t cpu_start = std::clock();
        std::shuffle(order.begin(), order.end(), engine);
        double total = 0.0;
        for (std::size_t first = 0; first < train_set.size; first += opt.batch_size) {
            const std::size_t rows = std::min(opt.batch_size, train_set.size - first);
            for (std::size_t i = 0; i < rows; ++i) {
                const std::size_t src = order[first + i];
                std::copy_n(train_set.x.data() + src * n_in, n_in, buf.x.data() + i * n_in);
                labels[i] = train_set.label[src];
            }
            forward(model, buf, rows);
            total += backward(model, buf, labels.data(), rows);
            for (Param* p : params) p->rmsprop_step();
        }
        epoch_seconds.push_back(seconds_since(start));
        epoch_cpu_seconds.push_back(cpu_seconds_since(cpu_start));
        train_loss.push_back(total / static_cast<double>(train_set.size));
        fmt::print("epoch {}/{}: {:.3f} s, loss {:.4f}\n", epoch + 1, opt.epochs, epoch_seconds.back(),
                   train_loss.back());
        std::fflush(stdout);
    }

    double test_total = 0.0;
    std::size_t correct = 0;
    for (std::size_t first = 0; first < test_set.size; first += opt.batch_size) {
        const std::size_t rows = std::min(opt.batch_size, test_set.size - first);
        std::copy_n(test_set.x.data() + first * n_in, rows * n_in, buf.x.data());
        forward(model, buf, rows);
        test_total += softmax_cross_entropy(buf.logits.data(), test_set.label.data() + first, rows, nullptr);
        for (std::size_t i = 0; i < rows; ++i) {
            const float* z = buf.logits.data() + i * n_out;
            correct += static_cast<std::size_t>(std::max_element(z, z + n_out) - z) == test_set.label[first + i];
        }
    }

    double train_seconds = 0.0;
    for (double s : epoch_seconds) train_seconds += s;
    fmt::print("{{\"impl\": \"handwritten\", \"threads\": {}, \"epoch_seconds\": {}, \"epoch_cpu_seconds\": {}, "
               "\"train_seconds\": {:.6f}, \"train_loss\": {}, \"test_accuracy\": {:.6f}, \"test_loss\": {:.6f}}}\n",
               xg::num_threads(), json_list(epoch_seconds), json_list(epoch_cpu_seconds), train_seconds,
               json_list(train_loss),
               static_cast<double>(correct) / static_cast<double>(test_set.size),
               test_total / static_cast<double>(test_set.size));
    return 0;
}

// The products of each step of an epoch (60000 rows, or --train-limit, in batches) for the MLP
// 784 -> hidden... -> 10, on buffers of the right shapes filled with values of the right scale;
// nothing else is timed. For the reference model they are the five of backward() and forward().
int gemm_only(const Options& opt) {
    const std::size_t n_train = opt.train_limit > 0 ? opt.train_limit : 60000;
    const std::size_t cap = opt.batch_size;
    std::mt19937_64 engine(opt.seed);
    std::uniform_real_distribution<float> uniform(-0.05f, 0.05f);
    auto filled = [&](std::size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = uniform(engine);
        return v;
    };
    std::vector<std::size_t> widths{n_in};
    widths.insert(widths.end(), opt.hidden.begin(), opt.hidden.end());
    widths.push_back(n_out);
    const std::size_t layers = widths.size() - 1;
    // act[l]: the input of layer l (act[0] is x); grad[l]: the gradient of layer l's output.
    std::vector<std::vector<float>> act, grad, w, dw;
    for (std::size_t l = 0; l <= layers; ++l) act.push_back(filled(cap * widths[l]));
    for (std::size_t l = 0; l < layers; ++l) {
        grad.push_back(filled(cap * widths[l + 1]));
        w.push_back(filled(widths[l] * widths[l + 1]));
        dw.emplace_back(widths[l] * widths[l + 1]);
    }
    // With --update: every weight (its gradient from the products) and bias (a gradient of the
    // right scale; the bias sums are not timed), each with its RMSprop accumulator.
    std::vector<Param> biases;
    std::vector<std::vector<float>> mean_square;
    if (opt.update) {
        for (std::size_t l = 0; l < layers; ++l) {
            biases.emplace_back(widths[l + 1]);
            biases.back().grad = filled(widths[l + 1]);
            mean_square.emplace_back(widths[l] * widths[l + 1], 0.0f);
        }
    }
    auto split_rmsprop = [](float* p, const float* g, float* v, std::size_t n) {
        xg::parallel_for(0, n, xg::kParallelGrain,
                         [=](std::size_t lo, std::size_t hi) { rmsprop(p + lo, g + lo, v + lo, hi - lo); });
    };

    std::vector<double> epoch_seconds, epoch_cpu_seconds;
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
        const auto start = Clock::now();
        const std::clock_t cpu_start = std::clock();
        for (std::size_t first = 0; first < n_train; first += cap) {
            const std::size_t rows = std::min(cap, n_train - first);
            for (std::size_t l = 0; l < layers; ++l)
                xg::gemm(act[l].data(), w[l].data(), act[l + 1].data(), rows, widths[l + 1], widths[l], false, false);
            for (std::size_t l = layers; l-- > 0;) {
                // dw = in^T (k, rows) . dy (rows, n); dx = dy (rows, n) . w^T (n, k), into the previous layer's grad
                xg::gemm(act[l].data(), grad[l].data(), dw[l].data(), widths[l], widths[l + 1], rows, true, false);
                if (l > 0)
                    xg::gemm(grad[l].data(), w[l].data(), grad[l - 1].data(), rows, widths[l], widths[l + 1], false, true);
            }
            for (std::size_t l = 0; l < biases.size(); ++l) {
                split_rmsprop(w[l].data(), dw[l].data(), mean_square[l].data(), w[l].size());
                Param& b = biases[l];
                split_rmsprop(b.value.data(), b.grad.data(), b.mean_square.data(), b.value.size());
            }
        }
        epoch_seconds.push_back(seconds_since(start));
        epoch_cpu_seconds.push_back(cpu_seconds_since(cpu_start));
        fmt::print("epoch {}/{}: {:.3f} s\n", epoch + 1, opt.epochs, epoch_seconds.back());
        std::fflush(stdout);
    }
    double train_seconds = 0.0;
    for (double s : epoch_seconds) train_seconds += s;
    fmt::print("{{\"impl\": \"{}\", \"threads\": {}, \"epoch_seconds\": {}, \"epoch_cpu_seconds\": {}, "
               "\"train_seconds\": {:.6f}, \"test_accuracy\": null, \"test_loss\": null}}\n",
               opt.update ? "gemm+update" : "gemm-only", xg::num_threads(), json_list(epoch_seconds),
               json_list(epoch_cpu_seconds), train_seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    const char* env = std::getenv("XGRAD_DATA");
    opt.data = env ? env : "../shared/data/mnist";

    CLI::App app{"Trains the reference MNIST model with direct sgemm calls and no tape (the overhead bar)."};
    app.add_option("--data", opt.data, "Folder with the four MNIST IDX .gz files (default: $XGRAD_DATA or ../shared/data/mnist)");
    app.add_option("--epochs", opt.epochs, "Epochs to train")->check(CLI::PositiveNumber);
    app.add_option("--batch-size", opt.batch_size, "Rows per step")->check(CLI::PositiveNumber);
    app.add_option("--threads", opt.threads, "Threads (default: OpenBLAS's own choice: OPENBLAS_NUM_THREADS, else the cores)")
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", opt.seed, "Seed of the initializer and the shuffle");
    app.add_flag("--gemm-only", opt.gemm_only, "Time only the matrix products of each step");
    auto* update = app.add_flag("--update", opt.update, "With --gemm-only: and the RMSprop update of every parameter");
    auto* hidden = app.add_option("--hidden", opt.hidden, "With --gemm-only: the hidden widths, e.g. 2048,2048 (default: 512)")
                       ->delimiter(',')
                       ->check(CLI::Range(1, 1 << 20));
    app.add_option("--train-limit", opt.train_limit, "Train on the first N images only (default: all 60000)")
        ->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    if (!opt.gemm_only && update->count() > 0) {
        fmt::print(stderr, "bench_handwritten: --update is given; expected it with --gemm-only only "
                           "(the trainer always updates)\n");
        return 2;
    }
    if (!opt.gemm_only && hidden->count() > 0) {
        fmt::print(stderr, "bench_handwritten: --hidden is given; expected it with --gemm-only only "
                           "(the trainer is written for the 784-512-10 model)\n");
        return 2;
    }

    try {
        if (opt.threads > 0) xg::set_num_threads(opt.threads);
        return opt.gemm_only ? gemm_only(opt) : train(opt);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_handwritten: {}\n", e.what());
        return 1;
    }
}
