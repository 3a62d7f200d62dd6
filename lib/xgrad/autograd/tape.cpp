#include "xgrad/autograd/tape.hpp"

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/core/error.hpp"

namespace xg {

using detail::make_node;
using detail::make_pooled;
using detail::Node;

namespace {

bool all_finite(const Array& a) {
    for (float v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

std::string where(const Record& r) { return r.scope.empty() ? std::string() : fmt::format(" in {}", r.scope); }

// A copy of `name` that lives as long as the process, one per distinct name: records keep op
// names and scopes as views, so that a scalar graph copies no strings.
std::string_view intern(std::string_view name) {
    static std::mutex mutex;
    static std::set<std::string, std::less<>> names;  // nodes never move: views into them stay valid
    std::lock_guard lock(mutex);
    auto it = names.find(name);
    if (it == names.end()) it = names.emplace(name).first;
    return *it;
}

void check_finite(const Array& a, const Record& r, const char* what) {
    if (!all_finite(a)) {
        throw NumericError(fmt::format("anomaly: op '{}'{} produced NaN or Inf in its {} {}; expected finite values",
                                       r.op, where(r), what, format_shape(a.shape())));
    }
}

// Runs a record's ScalarRule: its inputs, output and gradient read as floats, no Array built.
void backward_scalar(const Record& r) {
    float x[kMaxScalarInputs], dx[kMaxScalarInputs] = {};  // a rule that skips an input adds 0
    const std::size_t n = r.inputs.size();
    for (std::size_t i = 0; i < n; ++i) x[i] = r.inputs[i]->item();
    r.scalar_rule(x, r.output->item(), r.output->grad_item(), dx);
    for (std::size_t i = 0; i < n; ++i) {
        if (r.inputs[i]->requires_grad) r.inputs[i]->add_grad(dx[i]);
    }
}

// One step of the walk: runs the record's rule if its output received a gradient, then drops
// that gradient (unless retained). `check`: anomaly mode's finiteness checks.
void backward_record(const Record& r, bool check) {
    Node& result = *r.output;
    if (!result.has_grad()) return;
    if (check) check_finite(std::as_const(result).grad(), r, "gradient");
    if (r.scalar_rule) {
        backward_scalar(r);
    } else {
        GradientContext ctx(r);
        r.array_rule->backward(ctx);
    }
    if (check) {
        for (std::size_t k = 0; k < r.inputs.size(); ++k) {
            const Node& in = *r.inputs[k];
            if (in.has_grad() && !all_finite(in.grad())) {
                throw NumericError(fmt::format("anomaly: backward of op '{}'{} produced NaN or Inf in the gradient "
                                               "of input {} {}; expected finite values",
                                               r.op, where(r), k, format_shape(in.shape())));
            }
        }
    }
    if (!result.retains_grad) {
        // Intermediate gradients are dropped as soon as they are used: memory stays at one
        // step's worth and a second backward starts clean.
        result.drop_grad();
    }
}

// Generations are drawn from one process-wide counter: a result from a thread that has
// exited can never match a new thread's tape, and a generation alone says which tape a node is on.
std::uint64_t next_generation() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

}  // namespace

Tape::Tape() : generation_(next_generation()) {}

Tape& Tape::current() {
    thread_local Tape tape;
    return tape;
}

void Tape::clear() {
    records_.clear();
    walked_ = false;
    generation_ = next_generation();
}

void GradientContext::accumulate(std::size_t i, Array g) const {
    Node& node = *record_.inputs[i];
    if (!node.requires_grad) return;
    if (g.shape() != node.shape()) {
        // Broadcasting in the forward pass is undone here, once, for every op.
        try {
            g = sum_to(g, node.shape());
        } catch (const ShapeError&) {
            throw ShapeError(fmt::format("backward of '{}': gradient for input {} has shape {}; expected {} or a shape it broadcasts to",
                                         record_.op, i, format_shape(g.shape()), format_shape(node.shape())));
        }
    }
    node.add_grad(std::move(g));
}

void GradientContext::accumulate_part(std::size_t i, const std::function<void(float* grad)>& add) const {
    Node& node = *record_.inputs[i];
    if (node.requires_grad) add(node.grad_to_add_into().data());
}

ScopeGuard::ScopeGuard(const std::string& name) {
    Tape& tape = Tape::current();
    previous_length_ = tape.scope_.size();
    previous_name_ = tape.scope_name_;
    try {
        if (!tape.scope_.empty()) tape.scope_ += '/';
        tape.scope_ += name;
        tape.scope_name_ = intern(tape.scope_);
    } catch (...) {
        tape.scope_.resize(previous_length_);
        throw;
    }
}

ScopeGuard::~ScopeGuard() {
    Tape& tape = Tape::current();
    tape.scope_.resize(previous_length_);
    tape.scope_name_ = previous_name_;
}

Tensor record_op(std::string op, std::initializer_list<Tensor> inputs, Array output, BackwardFn backward,
                 OpAttributes attributes) {
    return record_op(std::move(op), inputs.begin(), inputs.size(), std::move(output), std::move(backward),
                     std::move(attributes));
}

Tensor record_op(std::string op, const std::vector<Tensor>& inputs, Array output, BackwardFn backward,
                 OpAttributes attributes) {
    return record_op(std::move(op), inputs.data(), inputs.size(), std::move(output), std::move(backward),
                     std::move(attributes));
}

Tensor record_op(std::string op, const Tensor* inputs, std::size_t count, Array output, BackwardFn backward,
                 OpAttributes attributes) {
    return record_op(std::move(op), inputs, count, std::move(output), std::move(backward), TensorRule(),
                     std::move(attributes));
}

Tensor record_op(std::string op, std::initializer_list<Tensor> inputs, Array output, BackwardFn backward,
                 TensorRule tensor_backward, OpAttributes attributes) {
    return record_op(std::move(op), inputs.begin(), inputs.size(), std::move(output), std::move(backward),
                     std::move(tensor_backward), std::move(attributes));
}

Tensor record_op(std::string op, const std::vector<Tensor>& inputs, Array output, BackwardFn backward,
                 TensorRule tensor_backward, OpAttributes attributes) {
    return record_op(std::move(op), inputs.data(), inputs.size(), std::move(output), std::move(backward),
                     std::move(tensor_backward), std::move(attributes));
}

namespace {

// Whether an op's result takes part in gradients: recording is on and an input requires one.
// An input recorded on a cleared tape cannot be back-propagated through: a StateError.
bool needs_gradient(const Tape& tape, std::string_view op, const Tensor* inputs, std::size_t count) {
    if (!grad_enabled()) return false;
    bool needs = false;
    for (std::size_t i = 0; i < count; ++i) {
        const Node& in = *inputs[i].node();
        if (!in.requires_grad) continue;
        if (in.role == Role::result && !tape.holds(in)) {
            throw StateError(fmt::format("{}: input {} {} was recorded on a tape that has since been cleared "
                                         "(by backward or Tape::clear); expected a fresh result, or detach() it first",
                                         op, i, format_shape(in.shape())));
        }
        needs = true;
    }
    return needs;
}

}  // namespace

const OpAttributes& Record::attributes() const {
    static const OpAttributes none;
    return array_rule ? array_rule->attributes : none;
}

void detail::RecordInputs::assign(const Tensor* inputs, std::size_t count, const Tape& tape) {
    auto hold = [&tape](const Tensor& t) {
        // An input recorded on this tape is owned by its own, older record, and no record is used
        // once the ones before it are gone: an alias without ownership suffices.
        return tape.holds(*t.node()) ? std::shared_ptr<Node>(std::shared_ptr<Node>(), t.node()) : t.node_ptr();
    };
    std::shared_ptr<Node>* slots = inline_.data();
    if (count > kInline) {
        more_ = std::make_unique<std::shared_ptr<Node>[]>(count);
        slots = more_.get();
    }
    for (std::size_t i = 0; i < count; ++i) slots[i] = hold(inputs[i]);
    size_ = count;
}

Tensor detail::RecordInputs::tensor(std::size_t i) const {
    const std::shared_ptr<Node>& slot = slots()[i];
    if (slot.use_count() > 0) return Tensor(slot);
    // Not owned here: a result recorded on this thread's tape, owned by its own record.
    const Tape& tape = Tape::current();
    if (!tape.holds(*slot)) {
        throw StateError("RecordInputs::tensor: the record is not on this thread's current tape; expected a record "
                         "read from Tape::current() before it was cleared");
    }
    return Tensor(tape.records_[slot->record].output);
}

Record& Tape::append(const std::shared_ptr<Node>& output, const Tensor* inputs, std::size_t count) {
    if (records_.size() > std::numeric_limits<std::uint32_t>::max()) {
        throw StateError("record_op: the tape holds 2^32 records; expected a backward or Tape::clear() before more");
    }
    output->generation = generation_;
    output->record = static_cast<std::uint32_t>(records_.size());
    Record& r = records_.emplace_back();
    r.output = output;
    try {
        r.inputs.assign(inputs, count, *this);
    } catch (...) {  // no half-built record may stay on the tape
        records_.pop_back();
        throw;
    }
    r.scope = scope_name_;
    return r;
}

Tensor record_op(std::string op, const Tensor* inputs, std::size_t count, Array output, BackwardFn backward,
                 TensorRule tensor_backward, OpAttributes attributes) {
    Tape& tape = Tape::current();
    const bool needs_grad = needs_gradient(tape, op, inputs, count);
    auto node = make_node(std::move(output), Role::result, needs_grad);
    if (!needs_grad) return Tensor(std::move(node));
    Record& r = tape.append(node, inputs, count);
    r.op = intern(op);
    r.array_rule =
        make_pooled<ArrayRule>(ArrayRule{std::move(backward), std::move(tensor_backward), std::move(attributes)});
    if (anomaly_detection_enabled()) check_finite(node->value(), r, "output");
    return Tensor(std::move(node));
}

Tensor record_scalar_op(std::string_view op, std::initializer_list<Tensor> inputs, float output, ScalarRule rule) {
    if (inputs.size() > kMaxScalarInputs) {
        throw ValueError(fmt::format("{}: {} inputs to a scalar op; expected at most {}", op, inputs.size(), kMaxScalarInputs));
    }
    if (rule == nullptr) throw ValueError(fmt::format("{}: the scalar op has no gradient rule; expected a ScalarRule", op));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& in = inputs.begin()[i];
        if (!in.defined()) {
            throw StateError(fmt::format("{}: input {} is an empty tensor handle; expected one made from a value or an op", op, i));
        }
        if (!in.node()->is_scalar() && in.rank() != 0) {
            throw ShapeError(fmt::format("{}: input {} has shape {}; a scalar op expects 0-d inputs", op, i,
                                         format_shape(in.shape())));
        }
    }
    Tape& tape = Tape::current();
    const bool needs_grad = needs_gradient(tape, op, inputs.begin(), inputs.size());
    auto node = make_node(output, Role::result, needs_grad);
    if (!needs_grad) return Tensor(std::move(node));
    Record& r = tape.append(node, inputs.begin(), inputs.size());
    r.op = op;
    r.scalar_rule = rule;
    if (anomaly_detection_enabled()) check_finite(node->value(), r, "output");
    return Tensor(std::move(node));
}

void detail::check_backward_root(const Node& root, const Array* seed) {
    if (!root.requires_grad) {
        throw StateError(fmt::format("backward: tensor {} does not require a gradient; expected a result of ops on "
                                     "parameters (was it computed under NoGradGuard or detached?)",
                                     format_shape(root.shape())));
    }
    if (root.role == Role::result && !Tape::current().holds(root)) {
        throw StateError("backward: tensor was recorded on a tape that has since been cleared (by an earlier backward "
                         "or Tape::clear); expected a freshly computed result, or retain_graph=true on the earlier backward");
    }
    if (seed && seed->shape() != root.shape()) {
        throw ShapeError(fmt::format("backward: seed gradient has shape {}; expected the output's shape {}",
                                     format_shape(seed->shape()), format_shape(root.shape())));
    }
    if (!seed && root.size() != 1) {
        throw ShapeError(fmt::format("backward: output has shape {}; expected a scalar, or pass a seed gradient "
                                     "of that shape", format_shape(root.shape())));
    }
}

void detail::run_backward(const Tensor& root, const Array* seed, bool retain_graph) {
    Tape& tape = Tape::current();
    Node& out = *root.node();
    check_backward_root(out, seed);
    Array start;
    if (seed) {
        start = *seed;
    } else {
        start = xt::ones<float>(out.shape());
    }
    // A result's gradient from an earlier backward (kept by retain_grad) must not flow down
    // the graph again: set it aside for this walk and add it back afterwards.
    // Only a walk gives results gradients, so on a tape not yet walked there is nothing to look for
    // (and a large scalar graph is spared a pass over every node).
    std::vector<std::pair<std::shared_ptr<Node>, Array>> kept;
    if (out.role == Role::result && tape.walked_) {
        for (std::size_t i = 0; i <= out.record; ++i) {
            Node& result = *tape.records_[i].output;
            if (!result.has_grad()) continue;
            if (result.retains_grad) kept.emplace_back(tape.records_[i].output, std::move(result.grad()));
            result.drop_grad();
        }
    }
    out.add_grad(std::move(start));
    if (out.role == Role::result) {
        tape.walked_ = true;
        // Rules compute on arrays; should one call an op, it must not append to the tape being walked.
        NoGradGuard no_grad;
        try {
            const bool check = anomaly_detection_enabled();
            // Records are in execution order, so walking them backwards visits every node after
            // all of its consumers: each gradient is complete before it is propagated.
            if (!retain_graph) tape.records_.erase(tape.records_.begin() + static_cast<std::ptrdiff_t>(out.record) + 1,
                                                   tape.records_.end());
            for (std::size_t i = out.record + 1; i-- > 0;) {
                backward_record(tape.records_[i], check);
                // A record is freed as soon as it is used, while it is still in cache: on a large
                // graph a separate clear() would read every record from memory again.
                if (!retain_graph) tape.records_.pop_back();
            }
        } catch (...) {
            // A rule that threw (anomaly mode, a user op's shape error) leaves the walk half done:
            // drop the graph as a finished walk would, so the next step starts from a clean tape.
            if (!retain_graph) tape.clear();
            throw;
        }
    }
    for (auto& [node, grad] : kept) node->add_grad(std::move(grad));
    if (!retain_graph) tape.clear();
}

}  // namespace xg
