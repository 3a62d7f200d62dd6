#include "xgrad/train/model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/train/kept_steps.hpp"
#include "xgrad/train/progress.hpp"

namespace xg {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::shared_ptr<Optimizer> optimizer_by_name(const std::string& name, std::vector<Tensor> params) {
    if (name == "rmsprop") return std::make_shared<RMSprop>(std::move(params));
    if (name == "sgd") return std::make_shared<SGD>(std::move(params));
    if (name == "adam") return std::make_shared<Adam>(std::move(params));
    throw ValueError(fmt::format("compile: unknown optimizer '{}'; expected rmsprop, sgd or adam", name));
}

}  // namespace

Model::Model(std::shared_ptr<Module> network) : network_(std::move(network)) {
    if (!network_) throw ValueError("Model: network is null; expected a module");
}

std::shared_ptr<Metric> MetricSpec::resolve(const std::string& loss) const {
    if (metric_) return metric_;
    return metric_by_name(name_, loss);
}

void Model::compile(std::shared_ptr<Optimizer> optimizer, Loss loss, const std::vector<MetricSpec>& metrics) {
    if (!optimizer) throw ValueError("compile: optimizer is null; expected an optimizer over the model's parameters");
    std::vector<std::shared_ptr<Metric>> resolved;
    for (auto& m : metrics) resolved.push_back(m.resolve(loss.name()));
    optimizer_ = std::move(optimizer);
    loss_ = std::move(loss);
    metrics_ = std::move(resolved);
}

void Model::compile(const std::string& optimizer, Loss loss, const std::vector<MetricSpec>& metrics) {
    compile(optimizer_by_name(optimizer, network_->trainable_parameters()), std::move(loss), metrics);
}

const std::string& Model::loss_name() const {
    static const std::string none;
    return loss_ ? loss_->name() : none;
}

Optimizer& Model::optimizer() {
    check_compiled("optimizer");
    return *optimizer_;
}

void Model::check_compiled(const char* call) const {
    if (!optimizer_) throw StateError(fmt::format("{}: model is not compiled; expected compile(optimizer, loss) first", call));
}

Tensor Model::compute_loss(const Tensor& x, const Tensor& y, Tensor* y_pred, Tensor* y_mask) {
    check_compiled("compute_loss");
    // The network says which activation ends it, so a crossentropy after softmax is computed
    // on the logits (fused, exact) in training and evaluation alike.
    Activated out = network_->call_with_logits(x);
    Tensor loss = (*loss_)(out, y);
    if (y_pred) *y_pred = out.output;
    if (y_mask) *y_mask = out.mask;
    return loss;
}

Tensor Model::forward_loss(const Tensor& x, const Tensor& y) {
    check_compiled("forward_loss");
    // A look at one step, not a step: the moving statistics it updates and the random numbers
    // its random layers draw (dropout, augmentation) are put back, so exporting a graph leaves
    // training as it would have been.
    std::vector<Array> buffers;
    for (const Tensor& b : network_->buffers()) buffers.push_back(b.value());
    const RandomEngine engine = random_engine();
    ModeGuard mode(*network_, true);
    Tensor loss = compute_loss(x, y);
    std::size_t i = 0;
    for (Tensor b : network_->buffers()) b.mutable_value() = buffers[i++];
    random_engine() = engine;
    return loss;
}

Tensor Model::train_step(const Tensor& x, const Tensor& y, Tensor* y_pred, Tensor* y_mask) {
    check_compiled("train_step");
    ModeGuard mode(*network_, true);
    Tensor out, loss, mask;
    try {
        loss = compute_loss(x, y, &out, &mask);
    } catch (...) {
        // A step that fails half-way (targets that do not fit the loss, ...) must not leave
        // its activations on the tape.
        Tape::current().clear();
        throw;
    }
    if (!std::isfinite(loss.item())) {
        Tape::current().clear();
        throw NumericError(fmt::format("train_step: loss is not finite ({}); training diverged (try a lower learning "
                                       "rate, or anomaly detection to find the first op that produced it)", loss.item()));
    }
    optimizer_->zero_grad();
    loss.backward();
    const std::size_t samples = x.rank() > 0 ? x.shape()[0] : 1;
    apply_gradients(samples, loss_weight(samples, mask));
    if (y_pred) *y_pred = out;
    if (y_mask) *y_mask = mask;
    return loss;
}

std::size_t Model::loss_weight(std::size_t samples, const Tensor& mask) {
    if (!mask.defined()) return samples;
    const Array& flags = mask.value();
    return static_cast<std::size_t>(std::count_if(flags.begin(), flags.end(), [](float f) { return f != 0.0f; }));
}

void Model::apply_gradients(std::size_t local_count, std::size_t local_weight) {
    // Data-parallel, the local gradients are means over this process's share (its samples, or
    // a masked output's kept steps); the step needs the mean over the global batch, the same on
    // every process.
    if (parallel_) {
        try {
            parallel_->average_gradients(optimizer_->parameters(), local_weight);
        } catch (const ValueError&) {
            // Not one kept step in the whole batch (padding alone), on every process alike: the
            // loss is 0 and so is the gradient, as on one process.
            if (local_weight != 0) throw;
            for (Tensor p : optimizer_->parameters()) p.set_grad(Array(p.shape(), 0.0f));
        }
        // Moving statistics were updated from this process's share only; averaged after every
        // step, they stay the same on every process (what a checkpoint from process 0 keeps).
        parallel_->average_buffers(network_->buffers(), local_count);
    }
    optimizer_->step();
}

void Model::run_epoch(const Dataset& data, const std::vector<std::size_t>& order, std::size_t batch_size, bool train,
                      Logs& logs, ProgressBar* progress) {
    Mean loss_mean;
    for (auto& m : metrics_) m->reset();
    const std::size_t n = order.size();
    // The loss is weighted by what it averages: samples, or a masked output's kept steps.
    std::size_t local_weight = 0;
    for (std::size_t start = 0; start < n; start += batch_size) {
        const std::size_t count = std::min(batch_size, n - start);
        std::span<const std::size_t> rows = std::span(order).subspan(start, count);
        // Data-parallel training splits each global batch across the processes (evaluation
        // is handed this process's share of the samples instead).
        if (train && parallel_) rows = parallel_->shard(rows);
        if (rows.empty()) {
            // A last batch smaller than the group: no samples here, but the step is collective.
            optimizer_->zero_grad();
            apply_gradients(0, 0);
            continue;
        }
        data.gather(rows, batch_x_, batch_y_);
        // The batch buffers move into the tensors for the step and back out after it.
        Tensor x = input(std::move(batch_x_));
        Tensor y = constant(std::move(batch_y_));
        Tensor loss, out, mask;
        if (train) {
            loss = train_step(x, y, &out, &mask);
        } else {
            NoGradGuard no_grad;
            loss = compute_loss(x, y, &out, &mask);
        }
        const std::size_t weight = loss_weight(rows.size(), mask);
        local_weight += weight;
        loss_mean.add(loss.item(), static_cast<double>(weight));
        if (mask.defined()) {
            // The metrics, like the loss, count the steps the mask keeps (a batch of padding
            // alone has none to count).
            if (!metrics_.empty() && weight > 0) {
                NoGradGuard no_grad;
                const Array kept_out = kept_steps(out, mask, "predictions").value();
                const Array kept_y = kept_steps(y, mask, "targets").value();
                for (auto& m : metrics_) m->update(kept_out, kept_y);
            }
        } else {
            for (auto& m : metrics_) m->update(out.value(), y.value());
        }
        batch_x_ = std::move(x.mutable_value());
        batch_y_ = std::move(y.mutable_value());
        if (progress) {
            // Data-parallel, the running values are this process's; the epoch's are averaged.
            logs = {{"loss", loss_mean.result()}};
            for (auto& m : metrics_) logs.emplace_back(m->name(), m->result());
            progress->update(start + count, logs);
        }
    }
    logs = {{"loss", loss_mean.result()}};
    for (auto& m : metrics_) logs.emplace_back(m->name(), m->result());
    if (parallel_) {
        logs = parallel_->average_logs(logs, local_weight);
        // A metric with sums (counts, totals) gets the whole data's figure from their sums over
        // the processes: an average of the processes' precisions or AUCs would not be it.
        std::vector<double> sums;
        std::vector<std::size_t> lengths;
        for (auto& m : metrics_) {
            const std::vector<double> own = m->sums();
            sums.insert(sums.end(), own.begin(), own.end());
            lengths.push_back(own.size());
        }
        if (sums.empty()) return;
        parallel_->group().sum(std::span(sums));
        auto next = sums.begin();
        for (std::size_t i = 0; i < metrics_.size(); ++i) {
            if (lengths[i] == 0) continue;
            metrics_[i]->set_sums(std::span(next, next + static_cast<std::ptrdiff_t>(lengths[i])));
            next += static_cast<std::ptrdiff_t>(lengths[i]);
            logs[i + 1].second = metrics_[i]->result();
        }
    }
}

History Model::fit(const Array& x, const Array& y, const FitOptions& options) {
    return fit(ArrayDataset(x, y), options);
}

History Model::fit(const Dataset& data, const FitOptions& options) {
    check_compiled("fit");
    if (options.batch_size == 0) throw ValueError("fit: batch_size is 0; expected at least 1");
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0)) {
        throw ValueError(fmt::format("fit: validation_split {}; expected 0 <= split < 1", options.validation_split));
    }
    if (options.validation_split > 0.0 && options.validation_data) {
        throw ValueError("fit: both validation_split and validation_data given; expected one of them");
    }
    // As in Keras, the split takes the last samples, before any shuffling.
    const std::size_t held_out = static_cast<std::size_t>(std::floor(static_cast<double>(data.size()) * options.validation_split));
    const SubsetDataset train_set(data, 0, data.size() - held_out);
    const SubsetDataset split_set(data, data.size() - held_out, data.size());
    const Dataset* validation = options.validation_data ? options.validation_data : (held_out > 0 ? &split_set : nullptr);
    if (train_set.size() == 0) throw ValueError("fit: no training samples; expected at least one");

    std::ostream& out = *options.out;
    History history;
    stop_requested_ = false;
    ModeGuard mode(*network_, true);
    int verbose = options.verbose;
    if (parallel_) {
        parallel_->check_same("fit: samples, validation samples, epochs, initial_epoch, batch_size, shuffle",
                              {train_set.size(), validation ? validation->size() : 0, options.epochs,
                               options.initial_epoch, options.batch_size, options.shuffle ? 1u : 0u});
        parallel_->broadcast_parameters(network_->parameters());
        parallel_->broadcast_parameters(network_->buffers());
        parallel_->broadcast_optimizer(*optimizer_);
        if (!parallel_->is_root()) verbose = 0;
    }
    for (auto& cb : options.callbacks) cb->on_train_begin(*this);
    for (std::size_t epoch = options.initial_epoch; epoch < options.epochs && !stop_requested_; ++epoch) {
        for (auto& cb : options.callbacks) cb->on_epoch_begin(*this, epoch);
        if (verbose > 0) out << fmt::format("Epoch {}/{}\n", epoch + 1, options.epochs) << std::flush;
        ProgressBar progress(out, train_set.size(), verbose, is_terminal(out));
        const auto start = Clock::now();
        Logs logs;
        std::vector<std::size_t> order = epoch_order(train_set.size(), options.shuffle);
        if (parallel_ && options.shuffle) parallel_->broadcast_order(order);
        run_epoch(train_set, order, options.batch_size, true, logs, &progress);
        const double seconds = seconds_since(start);
        if (validation) {
            for (auto& [key, value] : evaluate(*validation, options.batch_size)) logs.emplace_back("val_" + key, value);
        }
        progress.finish(logs, seconds, (train_set.size() + options.batch_size - 1) / options.batch_size);
        history.add(logs, seconds);
        for (auto& cb : options.callbacks) cb->on_epoch_end(*this, epoch, logs);
        // A callback may stop one process only (one that reads a file, say); all stop together.
        if (parallel_) stop_requested_ = parallel_->any(stop_requested_);
    }
    for (auto& cb : options.callbacks) cb->on_train_end(*this);
    return history;
}

Logs Model::evaluate(const Array& x, const Array& y, std::size_t batch_size) {
    return evaluate(ArrayDataset(x, y), batch_size);
}

Logs Model::evaluate(const Dataset& data, std::size_t batch_size) {
    check_compiled("evaluate");
    if (batch_size == 0) throw ValueError("evaluate: batch_size is 0; expected at least 1");
    if (data.size() == 0) throw ValueError("evaluate: no samples; expected at least one");
    ModeGuard mode(*network_, false);
    Logs logs;
    std::vector<std::size_t> order = epoch_order(data.size(), false);
    if (parallel_) {
        const auto share = parallel_->shard(order);
        order = std::vector<std::size_t>(share.begin(), share.end());
    }
    run_epoch(data, order, batch_size, false, logs, nullptr);
    return logs;
}

Array Model::predict(const Array& x, std::size_t batch_size) {
    if (batch_size == 0) throw ValueError("predict: batch_size is 0; expected at least 1");
    if (x.dimension() == 0 || x.shape()[0] == 0) {
        throw ShapeError(fmt::format("predict: input has shape {}; expected (samples, ...) with samples > 0",
                                     format_shape(x.shape())));
    }
    NoGradGuard no_grad;
    ModeGuard mode(*network_, false);
    const std::size_t n = x.shape()[0];
    const std::vector<std::size_t> order = epoch_order(n, false);
    Array result, batch;
    for (std::size_t start = 0; start < n; start += batch_size) {
        const std::size_t count = std::min(batch_size, n - start);
        gather_rows_into(x, std::span(order).subspan(start, count), batch);
        Tensor out = (*network_)(input(batch));
        if (start == 0) {
            Shape shape = out.shape();
            shape[0] = n;
            result = uninitialized(shape);
        }
        const std::size_t width = out.size() / count;
        std::copy(out.value().begin(), out.value().end(), result.data() + start * width);
    }
    return result;
}

}  // namespace xg
