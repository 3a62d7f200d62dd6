#pragma once
// The tape: a per-thread list of the ops executed since it was last cleared, each with
// its backward rule. backward() walks it once, newest record first.
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xgrad/autograd/detail/backward.hpp"
#include "xgrad/autograd/detail/node.hpp"
#include "xgrad/autograd/detail/record_inputs.hpp"
#include "xgrad/autograd/op_attributes.hpp"
#include "xgrad/autograd/tensor.hpp"

namespace xg {

class GradientContext;
class TensorGradientContext;

/// An op's gradient rule: reads dL/doutput and the saved values, adds dL/dinput per input.
using BackwardFn = std::function<void(GradientContext&)>;
/// An op's differentiable gradient rule: the same gradient computed with xgrad ops on Tensors,
/// so that a walk with create_graph records it (see tensor_rule.hpp).
using TensorRule = std::function<void(TensorGradientContext&)>;

/// The gradient rule of an op on 0-d values held inline: from the inputs x, the output y and
/// dL/dy = g, sets dx[i] = dL/dx[i] for every input. A plain function on floats: a scalar
/// graph runs one per op, and building xarrays for them would cost twenty times the arithmetic.
using ScalarRule = void (*)(const float* x, float y, float g, float* dx);
/// Most inputs an op with a ScalarRule may have.
inline constexpr std::size_t kMaxScalarInputs = 4;

/// The rule of an op on arrays, and how its record is labelled.
struct ArrayRule {
    BackwardFn backward;
    TensorRule tensor_backward;  // empty: the op's gradient cannot be differentiated again
    OpAttributes attributes;     // its settings: axis = 1, keepdims
};

/// One executed op: enough to replay its gradient and to draw it.
struct Record {
    std::string_view op;                        // "matmul" (valid for the life of the process)
    detail::RecordInputs inputs;
    std::shared_ptr<detail::Node> output;
    std::string_view scope;                     // module path at record time, "dense_1" (as op)
    ScalarRule scalar_rule = nullptr;           // an op on inline scalars: its rule
    // Any other op: its rule, out of line so that a scalar graph's records take two cache lines.
    detail::PooledPtr<ArrayRule> array_rule;

    /// The op's settings (axis = 1, keepdims); none for most ops.
    const OpAttributes& attributes() const;

    // Not value-initialized by emplace_back (zeroing every record first is a cost per op).
    Record() noexcept {}
};

/// What a backward rule sees of its record.
class GradientContext {
public:
    explicit GradientContext(const Record& record) : record_(record) {}
    /// dL/doutput, with the output's shape.
    const Array& grad() const { return std::as_const(*record_.output).grad(); }
    const Array& input(std::size_t i) const { return record_.inputs[i]->value(); }
    const Array& output() const { return record_.output->value(); }
    std::size_t input_count() const { return record_.inputs.size(); }
    /// Whether input i needs a gradient (skip the work when it does not).
    bool wants(std::size_t i) const { return record_.inputs[i]->requires_grad; }
    /// Adds g to dL/dinput(i); g may have the broadcast shape, it is summed back to the input's.
    void accumulate(std::size_t i, Array g) const;
    /// Adds a part of dL/dinput(i) in place: `add` adds it into the input's whole gradient,
    /// zeros the first time. For an op that reads part of its input (slice, gather, embedding_lookup): each
    /// costs its part, where a zero-padded whole per op would make a loop of slices quadratic.
    void accumulate_part(std::size_t i, const std::function<void(float* grad)>& add) const;

private:
    const Record& record_;
};

/// The per-thread list of records.
class Tape {
public:
    /// This thread's tape.
    static Tape& current();

    std::size_t size() const { return records_.size(); }
    const Record& operator[](std::size_t i) const { return records_[i]; }
    const std::vector<Record>& records() const { return records_; }
    /// Drops every record (and the intermediate values they kept alive); tensors recorded
    /// before this can no longer be back-propagated through.
    void clear();
    /// Changes at each clear(); a node recorded in another generation is stale.
    std::uint64_t generation() const { return generation_; }
    /// Whether `node` is a result recorded on this tape since the last clear.
    /// (During a backward walk that frees records as it goes, only the records not yet freed.)
    bool holds(const detail::Node& node) const { return node.generation == generation_ && node.record < records_.size(); }

    /// The module path new records are tagged with ("" at top level).
    const std::string& scope() const { return scope_; }

    Tape();
    Tape(const Tape&) = delete;
    Tape& operator=(const Tape&) = delete;

private:
    friend class ScopeGuard;
    friend Tensor record_op(std::string, const Tensor*, std::size_t, Array, BackwardFn, TensorRule, OpAttributes);
    friend Tensor record_scalar_op(std::string_view, std::initializer_list<Tensor>, float, ScalarRule);
    friend class detail::RecordInputs;
    // Appends the record of `output` (already made, requiring a gradient) and returns it.
    Record& append(const std::shared_ptr<detail::Node>& output, const Tensor* inputs, std::size_t count);
    friend void detail::run_backward(const Tensor&, const Array*, bool);

    std::vector<Record> records_;
    std::uint64_t generation_;  // unique across all tapes of the process, so no stale node matches
    std::string scope_;
    std::string_view scope_name_;  // scope_, interned: what records keep
    bool walked_ = false;  // whether a backward walk went through this generation's records
};

/// While alive, records on this thread are tagged with `name` appended to the scope path
/// ("model/dense_1"); graph export groups them into one cluster.
class ScopeGuard {
public:
    explicit ScopeGuard(const std::string& name);
    ~ScopeGuard();
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;

private:
    std::size_t previous_length_;
    std::string_view previous_name_;
};

/// Builds an op's result: wraps `output` in a Tensor and, when recording is on and an input
/// requires a gradient, appends a record with `backward`. Library ops and user-defined ops
/// are made the same way; see docs/architecture.md.
Tensor record_op(std::string op, std::initializer_list<Tensor> inputs, Array output, BackwardFn backward,
                 OpAttributes attributes = {});
/// record_op for a list of inputs built at run time (concat).
Tensor record_op(std::string op, const std::vector<Tensor>& inputs, Array output, BackwardFn backward,
                 OpAttributes attributes = {});
/// record_op over `count` inputs starting at `inputs`: the form the two above share.
Tensor record_op(std::string op, const Tensor* inputs, std::size_t count, Array output, BackwardFn backward,
                 OpAttributes attributes = {});
/// record_op with a differentiable rule as well: `backward` serves plain backward passes (the fast
/// path) and `tensor_backward` the ones that record their own ops (create_graph, higher orders).
Tensor record_op(std::string op, std::initializer_list<Tensor> inputs, Array output, BackwardFn backward,
                 TensorRule tensor_backward, OpAttributes attributes = {});
/// record_op with both rules for a list of inputs built at run time (concat).
Tensor record_op(std::string op, const std::vector<Tensor>& inputs, Array output, BackwardFn backward,
                 TensorRule tensor_backward, OpAttributes attributes = {});
/// record_op with both rules over `count` inputs starting at `inputs`.
Tensor record_op(std::string op, const Tensor* inputs, std::size_t count, Array output, BackwardFn backward,
                 TensorRule tensor_backward, OpAttributes attributes = {});

/// record_op for an op whose inputs are all 0-d (normally held inline) and whose
/// output is `output`: the result is held inline too, and backward runs `rule` on floats.
/// `op` must outlive the process's tapes (a string literal): it is kept, not copied. Throws
/// ValueError for a null rule or too many inputs, StateError for an empty handle, ShapeError for
/// an input that is not 0-d.
Tensor record_scalar_op(std::string_view op, std::initializer_list<Tensor> inputs, float output, ScalarRule rule);

}  // namespace xg
