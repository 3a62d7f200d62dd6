#pragma once
// Module: a named piece of a model that owns parameters and child modules. Calling a
// module records its ops inside a scope named after it, so graphs group them.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

class Module {
public:
    /// `kind` is the layer type shown in summaries ("Dense"); `name` is unique per model
    /// ("dense_1"), made from the kind and a per-kind counter when left empty.
    Module(std::string kind, std::string name = {});
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    /// Runs forward(x) with the module's name pushed onto the tape's scope.
    Tensor operator()(const Tensor& x);
    /// The computation; x has a leading batch axis.
    virtual Tensor forward(const Tensor& x) = 0;
    /// Output shape without the batch axis, for an input shape without the batch axis.
    /// The default runs forward on one zero sample without recording.
    virtual Shape output_shape(const Shape& input_shape);

    const std::string& name() const { return name_; }
    const std::string& kind() const { return kind_; }

    /// Trainable tensors of this module and all its children, in registration order.
    std::vector<Tensor> parameters() const;
    /// The same, named by path: "dense_1/kernel".
    std::vector<std::pair<std::string, Tensor>> named_parameters() const;
    /// Parameters registered directly on this module, with their local names.
    const std::vector<std::pair<std::string, Tensor>>& own_parameters() const { return parameters_; }
    const std::vector<std::shared_ptr<Module>>& children() const { return children_; }
    /// Number of scalars in parameters().
    std::size_t parameter_count() const;

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

    /// Training mode (default) or evaluation mode, for this module and its children.
    void train(bool on = true);
    void eval() { train(false); }
    bool training() const { return training_; }

protected:
    /// Adds a trainable tensor under `local_name`; returns the stored handle.
    Tensor& register_parameter(const std::string& local_name, Tensor t);
    /// Adds a non-trainable tensor under `local_name`, updated by the module itself; returns
    /// the stored handle (write to it in place, so every holder sees the update).
    Tensor& register_buffer(const std::string& local_name, Tensor t);
    /// Adds a child module; returns it.
    template <class M>
    std::shared_ptr<M> register_module(std::shared_ptr<M> child) {
        children_.push_back(child);
        return child;
    }

private:
    void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
    void collect_buffers(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;

    std::string kind_;
    std::string name_;
    bool training_ = true;
    std::vector<std::pair<std::string, Tensor>> parameters_;
    std::vector<std::pair<std::string, Tensor>> buffers_;
    std::vector<std::shared_ptr<Module>> children_;
};

/// "dense_1", "dense_2", ...: the next unused name for a kind ("Dense" -> "dense") in this process.
std::string unique_layer_name(const std::string& kind);
/// Restarts the per-kind name counters (tests, or a fresh model in a long-running program).
void reset_layer_names();

}  // namespace xg
