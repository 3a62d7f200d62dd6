#pragma once
// Data parallelism: several processes train one model, each on its share of every batch.
// Collectives is what it needs from the transport between the processes (xg::dist
// implements it with MPI); DataParallel is the arithmetic on top of it, used by Model (fit,
// evaluate, train_step) and by hand-written loops.
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "xgrad/autograd/tensor.hpp"
#include "xgrad/train/logs.hpp"

namespace xg {

class Optimizer;

/// The collective operations of a group of processes that run the same program. Every
/// process must make the same calls, in the same order, with the same lengths.
class Collectives {
public:
    virtual ~Collectives() = default;
    /// This process's index in [0, size()).
    virtual std::size_t rank() const = 0;
    virtual std::size_t size() const = 0;
    /// Overwrites `values` on every process with process 0's.
    virtual void broadcast(std::span<float> values) = 0;
    virtual void broadcast(std::span<double> values) = 0;
    virtual void broadcast(std::span<std::size_t> values) = 0;
    /// Replaces `values` on every process with their elementwise sum over all processes.
    virtual void sum(std::span<float> values) = 0;
    virtual void sum(std::span<double> values) = 0;
};

/// Data-parallel training over a group: the same parameters everywhere, each global batch
/// split across the processes, gradients and metrics averaged so that every process takes
/// the same step and reports the same figures as one process training on the whole batch.
/// Every call is collective (all processes make it, in the same order).
class DataParallel {
public:
    /// Throws ValueError for a null group.
    explicit DataParallel(std::shared_ptr<Collectives> group);

    std::size_t rank() const { return group_->rank(); }
    std::size_t world_size() const { return group_->size(); }
    /// Whether this process is the one that prints and writes files (process 0).
    bool is_root() const { return rank() == 0; }
    Collectives& group() { return *group_; }

    /// This process's part of `rows` (the same rows on every process): contiguous slices in
    /// rank order, n / p long, one longer on the first n mod p processes (so empty on the
    /// last ones when n < p). Not collective.
    std::span<const std::size_t> shard(std::span<const std::size_t> rows) const;

    /// Copies process 0's parameter values to every process (the start of training); throws
    /// ValueError on every process when the parameter sizes differ between processes.
    void broadcast_parameters(const std::vector<Tensor>& parameters);
    /// Copies process 0's optimizer state (step count, learning rate, slots) to every process,
    /// so a run resumed from a checkpoint read on process 0 alone continues everywhere; throws
    /// ValueError on every process when the state sizes differ between processes.
    void broadcast_optimizer(Optimizer& optimizer);
    /// Makes `order` (an epoch's sample order) process 0's; its length must agree.
    void broadcast_order(std::vector<std::size_t>& order);

    /// Turns each parameter's gradient, a mean over this process's `local_count` samples, into
    /// the mean over all processes' samples: sum_r (grad_r local_count_r) / sum_r local_count_r,
    /// in one sum over a contiguous buffer. A parameter without a gradient here contributes
    /// zeros; after the call it has one on every process if it had one on any. Returns the
    /// global sample count; throws ValueError when it is 0.
    std::size_t average_gradients(const std::vector<Tensor>& parameters, std::size_t local_count);
    /// Replaces each buffer (BatchNormalization's moving statistics, updated by this process's
    /// share of the batch) with its mean over the processes, weighted by their `local_count`s,
    /// in one sum: every process then holds the same statistics, the moving mean exactly the one
    /// the whole batch gives. Nothing to do for no buffers or one process.
    void average_buffers(const std::vector<Tensor>& buffers, std::size_t local_count);
    /// Each value averaged over the processes, weighted by their sample counts; exact for
    /// values that are means over samples (loss, accuracy). Keys must agree across processes.
    Logs average_logs(const Logs& logs, std::size_t local_count);
    /// Whether `flag` is true on any process (a stop request made on one process only).
    bool any(bool flag);
    /// Throws ValueError on every process when `values` (or their number) differ from process
    /// 0's on any of them (settings that must agree, or the processes would wait for each
    /// other forever); `what` names them: "fit: samples, epochs, batch_size".
    void check_same(const std::string& what, const std::vector<std::size_t>& values);

private:
    std::shared_ptr<Collectives> group_;
    std::vector<float> buffer_;  // the gradients of one step, reused
};

}  // namespace xg
