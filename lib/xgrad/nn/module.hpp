#pragma once
// Module: a named piece of a model that owns parameters and child modules. Calling a
// module records its ops inside a scope named after it, so graphs group them. Names are
// local, as PyTorch's attribute names: a parent names its children, and a parameter's name
// is its path from the module it is asked of ("dense_1/kernel").
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// A layer's settings as text ("units": "512"), enough to rebuild it (Keras's get_config).
using LayerConfig = std::map<std::string, std::string>;

/// A call's output with the values before its last activation: output = activation(logits).
/// Losses that have an exact form on logits (the crossentropies after softmax or sigmoid)
/// use `logits` when `activation` names the function they fuse. A sequence output whose steps
/// a mask marks carries it, and a loss counts the kept steps alone (Keras's masked losses).
struct Activated {
    Tensor output;
    Tensor logits;
    std::string activation;  // "linear" when output is logits
    Tensor mask{};           // (batch, steps), or undefined when every position counts
};

/// A call's output with the mask of its steps, as Keras's masking: `mask` is (batch, steps), 1 for
/// a step of the sequence and 0 for padding, or undefined when every step counts. An Embedding
/// with mask_zero or a Masking layer makes one; the recurrent layers, Bidirectional and
/// GlobalAveragePooling1D use it; Sequential hands it from layer to layer.
struct Masked {
    Tensor output;
    Tensor mask;
};

class Module {
public:
    /// `kind` is the layer type shown in summaries ("Dense"); `name` is the module's own
    /// name, or when left empty the kind in snake case numbered within its parent
    /// ("dense_1", "dense_2"; "dense_1" for a module registered nowhere).
    Module(std::string kind, std::string name = {});
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    /// Runs forward(x) with the module's name pushed onto the tape's scope.
    Tensor operator()(const Tensor& x);
    /// The computation; x has a leading batch axis.
    virtual Tensor forward(const Tensor& x) = 0;
    /// Runs forward_with_logits(x) in the module's scope, as operator() runs forward.
    Activated call_with_logits(const Tensor& x);
    /// Runs forward_masked(x, mask) in the module's scope: x (batch, steps, ...) whose steps `mask`
    /// marks (undefined: none), to the output and its mask. A mask of another shape than x's first
    /// two extents is a ShapeError.
    Masked call_masked(const Tensor& x, const Tensor& mask = {});
    /// Whether the module computes each step of a sequence from that step alone, so that a mask
    /// passes through it unchanged (Dense, Dropout, the activation layers, PReLU, Rescaling, a
    /// one-axis LayerNormalization); false by default.
    virtual bool passes_mask() const { return false; }
    /// Output shape without the batch axis, for an input shape without the batch axis.
    /// The default runs forward on one zero sample without recording.
    virtual Shape output_shape(const Shape& input_shape);

    const std::string& name() const { return name_; }
    const std::string& kind() const { return kind_; }
    /// Whether the module is a child of another (a module is registered in one place only).
    bool registered() const { return registered_; }
    /// The settings make_layer(kind(), ...) rebuilds this layer from, or nullopt for a module
    /// whose architecture lives in its code (the default).
    virtual std::optional<LayerConfig> config() const { return std::nullopt; }
    /// Whether config() describes this module's children too, so that make_layer rebuilds them
    /// (Bidirectional's two layers). False by default: a module whose children its code builds is
    /// saved by save_model as code.
    virtual bool config_describes_children() const { return false; }

    /// The parameters (weights a model learns) of this module and all its children, in
    /// registration order, frozen ones included (trainable_parameters() leaves them out).
    std::vector<Tensor> parameters() const;
    /// The same, named by path from this module, whose own name is left out as PyTorch does:
    /// a Sequential's are "dense_1/kernel", ..., a Dense's alone "kernel" and "bias".
    std::vector<std::pair<std::string, Tensor>> named_parameters() const;
    /// Parameters registered directly on this module, with their local names.
    const std::vector<std::pair<std::string, Tensor>>& own_parameters() const { return parameters_; }
    const std::vector<std::shared_ptr<Module>>& children() const { return children_; }
    /// Number of scalars in parameters().
    std::size_t parameter_count() const;

    /// Freezes (false) or unfreezes (true) every parameter of this module and its children, as
    /// Keras's `layer.trainable`: a frozen parameter does not require a gradient, so backward
    /// computes none for it, no optimizer changes it, and summary() counts it as non-trainable
    /// (a frozen BatchNormalization also runs on its moving statistics, as in inference).
    /// The later call wins for the modules it reaches. Compile after freezing: compile() by
    /// optimizer name optimizes trainable_parameters(). save_model keeps the flags.
    void set_trainable(bool on);
    /// False after set_trainable(false) on this module or an ancestor, until set_trainable(true).
    bool trainable() const { return trainable_; }
    /// The parameters() that require a gradient, in the same order.
    std::vector<Tensor> trainable_parameters() const;

    /// Non-trainable state of this module and its children (BatchNormalization's moving
    /// statistics), in registration order: saved with the weights, never optimized.
    std::vector<Tensor> buffers() const;
    /// The same, named by path: "batch_normalization_1/moving_mean".
    std::vector<std::pair<std::string, Tensor>> named_buffers() const;
    /// Buffers registered directly on this module, with their local names.
    const std::vector<std::pair<std::string, Tensor>>& own_buffers() const { return buffers_; }
    /// Number of scalars in buffers() (Keras's "Non-trainable params").
    std::size_t buffer_count() const;
    /// Everything a weights file holds: named_parameters(), then named_buffers().
    std::vector<std::pair<std::string, Tensor>> named_state() const;

    /// A Keras-style table of the children as one forward pass on a zero sample of
    /// `input_shape` (without the batch axis) calls them: name (type), output shape,
    /// parameter count (buffers included), then the totals, buffers counted as non-trainable.
    /// The pass runs in inference mode, leaving buffers and the random engine untouched.
    std::string summary(const Shape& input_shape);

    /// Training mode (default) or evaluation mode, for this module and its children.
    /// (ModeGuard sets one for a while and then gives each module back its own.)
    void train(bool on = true);
    void eval() { train(false); }
    bool training() const { return training_; }

protected:
    /// Runs `compute` (a call of this module) as operator() runs forward: in the module's scope,
    /// and seen by summary() with its output's shape. For the calls a layer adds (call_with_state).
    Tensor call_in_scope(const std::function<Tensor()>& compute);
    /// A ShapeError naming the module unless `mask` is undefined or (batch, steps) for x.
    void check_mask(const Tensor& x, const Tensor& mask) const;
    /// The computation of call_masked. The default is forward(x), with the mask passed on when
    /// passes_mask(); a module that neither uses a mask nor passes it refuses one (ValueError): it
    /// would mix the padding into the steps.
    virtual Masked forward_masked(const Tensor& x, const Tensor& mask);
    /// forward(x) with its last activation made explicit; the default is
    /// {forward(x), forward(x), "linear"}. Layers ending in an activation override it.
    virtual Activated forward_with_logits(const Tensor& x);
    /// Adds a trainable tensor under `local_name`; returns the stored handle.
    Tensor& register_parameter(const std::string& local_name, Tensor t);
    /// Adds a non-trainable tensor under `local_name`, updated by the module itself; returns
    /// the stored handle (write to it in place, so every holder sees the update).
    Tensor& register_buffer(const std::string& local_name, Tensor t);
    /// Adds a child module named `name` (unique among this module's children); returns it.
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
        adopt(name, child);
        return child;
    }
    /// Adds a child under the name it was given, or, when it was given none, under its kind
    /// numbered among this module's children ("dense_1", "dense_2"); returns it.
    template <class M>
    std::shared_ptr<M> register_module(std::shared_ptr<M> child) {
        adopt({}, child);
        return child;
    }

private:
    void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
    void collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
    void adopt(const std::string& name, const std::shared_ptr<Module>& child);
    void rename(std::string name);

    std::string kind_;
    std::string name_;
    bool named_by_user_;
    bool registered_ = false;
    bool training_ = true;
    bool trainable_ = true;
    std::vector<std::pair<std::string, Tensor>> parameters_;
    std::vector<std::pair<std::string, Tensor>> buffers_;
    std::vector<std::shared_ptr<Module>> children_;
};

/// Puts a module and all its children in training or evaluation mode for the guard's life,
/// then gives every one of them back the mode it had: a child the user put in evaluation
/// mode inside a training model (a frozen BatchNormalization) is in evaluation mode again
/// after fit, evaluate, predict, summary or export_onnx, whose guard this is.
class ModeGuard {
public:
    ModeGuard(Module& root, bool training);
    ~ModeGuard();
    ModeGuard(const ModeGuard&) = delete;
    ModeGuard& operator=(const ModeGuard&) = delete;

private:
    std::vector<std::pair<Module*, bool>> saved_;  // every module of the tree, parents first
};

}  // namespace xg
