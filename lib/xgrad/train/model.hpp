#pragma once
// Model: the Keras workflow (compile, fit, evaluate, predict) around any Module.
#include <concepts>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/data/dataset.hpp"
#include "xgrad/nn/module.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/train/callback.hpp"
#include "xgrad/train/data_parallel.hpp"
#include "xgrad/train/history.hpp"
#include "xgrad/train/loss.hpp"
#include "xgrad/train/metric.hpp"

namespace xg {

struct FitOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 32;
    bool shuffle = true;
    /// Fraction of the samples, taken from the end before shuffling, held out for validation.
    double validation_split = 0.0;
    /// Validation samples (instead of a split); must outlive fit().
    const Dataset* validation_data = nullptr;
    /// 0 silent, 1 progress bar (a line per epoch when not a terminal), 2 a line per epoch.
    int verbose = 1;
    std::vector<std::shared_ptr<Callback>> callbacks;
    std::ostream* out = &std::cout;
    /// Epoch to start counting from (resuming).
    std::size_t initial_epoch = 0;
};

/// A metric as compile() takes it, as in Keras: a name ("accuracy") or a Metric object.
class MetricSpec {
public:
    /// A metric by name ("accuracy"), resolved for the compiled loss.
    MetricSpec(std::string name) : name_(std::move(name)) {}
    /// The same from a literal.
    MetricSpec(const char* name) : name_(name) {}
    /// A Metric object, used as given (its name() is its key in logs).
    template <class M>
        requires std::derived_from<M, Metric>
    MetricSpec(std::shared_ptr<M> metric) : metric_(std::move(metric)) {}
    /// The metric itself: the object given, or the one `name` means for `loss` (metric_by_name).
    std::shared_ptr<Metric> resolve(const std::string& loss) const;

private:
    std::string name_;
    std::shared_ptr<Metric> metric_;
};

class Model {
public:
    explicit Model(std::shared_ptr<Module> network);

    /// Sets the optimizer (over network().trainable_parameters() or any list), the loss (a name, or a
    /// Loss such as xg::Loss(fn, "my_loss")) and the metrics (names or Metric objects).
    void compile(std::shared_ptr<Optimizer> optimizer, Loss loss, const std::vector<MetricSpec>& metrics = {});
    /// The same with a default-configured optimizer by name ("rmsprop", "sgd" or "adam") over
    /// network().trainable_parameters(): the parameters not frozen by Module::set_trainable(false).
    void compile(const std::string& optimizer, Loss loss, const std::vector<MetricSpec>& metrics = {});

    /// Trains on x (n, ...) and y (n, ...) with the network in training mode (Dropout drops,
    /// BatchNormalization uses batch statistics), restoring its mode afterwards; returns per-epoch logs.
    History fit(const Array& x, const Array& y, const FitOptions& options = {});
    History fit(const Dataset& data, const FitOptions& options = {});
    /// Loss and metrics over all samples, without recording, in inference mode.
    Logs evaluate(const Array& x, const Array& y, std::size_t batch_size = 32);
    Logs evaluate(const Dataset& data, std::size_t batch_size = 32);
    /// The network's outputs for x, computed in batches without recording, in inference mode.
    Array predict(const Array& x, std::size_t batch_size = 32);

    /// One optimisation step on a batch (forward in training mode, loss, backward, update); returns the loss
    /// tensor (its graph already released) and leaves the predictions in `y_pred` and the mask of
    /// their steps in `y_mask` (undefined: none). Data-parallel, x is this process's share of the
    /// batch and gradients are averaged before the update.
    Tensor train_step(const Tensor& x, const Tensor& y, Tensor* y_pred = nullptr, Tensor* y_mask = nullptr);
    /// The network's outputs and the loss for a batch, by one formula in training and
    /// evaluation: loss(network.call_with_logits(x), y), in the network's current mode. A
    /// network whose output carries a mask (an Embedding with mask_zero before a recurrent layer
    /// with return_sequences) has it in `y_mask`, and the loss and fit's metrics count the kept
    /// steps alone (kept_steps), as Keras's.
    Tensor compute_loss(const Tensor& x, const Tensor& y, Tensor* y_pred = nullptr, Tensor* y_mask = nullptr);
    /// The loss of a batch in training mode, recorded on the tape but not back-propagated (for graph
    /// export); moving statistics and the random engine are left as they were.
    Tensor forward_loss(const Tensor& x, const Tensor& y);

    Module& network() { return *network_; }
    Optimizer& optimizer();
    /// The compiled loss's name ("" before compile).
    const std::string& loss_name() const;
    /// Asks fit() to stop after the current epoch (callbacks use it).
    void stop_training() { stop_requested_ = true; }

    /// Trains data-parallel with the other processes of `parallel` (nullptr: alone): fit()
    /// starts from process 0's parameters and optimizer state, splits each batch across the
    /// processes and averages gradients before each step; fit() and evaluate() report figures
    /// averaged over all samples on every process; only process 0 prints progress.
    void set_data_parallel(std::shared_ptr<DataParallel> parallel) { parallel_ = std::move(parallel); }
    /// The group set by set_data_parallel, or nullptr.
    DataParallel* data_parallel() const { return parallel_.get(); }

private:
    void check_compiled(const char* call) const;
    /// What a batch's loss averages over: its samples, or the steps its output's mask keeps.
    static std::size_t loss_weight(std::size_t samples, const Tensor& mask);
    /// The update: data-parallel, the gradients averaged weighted by each process's loss_weight
    /// and the buffers by its samples (local_count).
    void apply_gradients(std::size_t local_count, std::size_t local_weight);
    void run_epoch(const Dataset& data, const std::vector<std::size_t>& order, std::size_t batch_size, bool train,
                   Logs& logs, class ProgressBar* progress);

    std::shared_ptr<Module> network_;
    std::shared_ptr<Optimizer> optimizer_;
    std::optional<Loss> loss_;
    std::vector<std::shared_ptr<Metric>> metrics_;
    bool stop_requested_ = false;
    std::shared_ptr<DataParallel> parallel_;
    // Batch buffers reused across steps: no allocation per step for inputs.
    Array batch_x_, batch_y_;
};

}  // namespace xg
