#pragma once
// Sequential: layers applied one after another, like keras.Sequential.
#include <memory>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xg {

class Sequential : public Module {
public:
    explicit Sequential(std::string name = {}) : Module("Sequential", std::move(name)) {}

    /// Appends a layer; returns it so that callers can keep a typed handle.
    template <class M>
    std::shared_ptr<M> add(std::shared_ptr<M> layer) {
        return register_module(std::move(layer));
    }
    /// Constructs and appends a layer: model.emplace<Dense>(784, 512, "relu").
    template <class M, class... Args>
    std::shared_ptr<M> emplace(Args&&... args) {
        return add(std::make_shared<M>(std::forward<Args>(args)...));
    }

    Tensor forward(const Tensor& x) override;
    Shape output_shape(const Shape& input_shape) override;
    const std::vector<std::shared_ptr<Module>>& layers() const { return children(); }

protected:
    /// The last layer's output and logits (a layer that uses a mask reaching it: its output as
    /// logits), and the mask of the output's steps as forward_masked gives it.
    Activated forward_with_logits(const Tensor& x) override;
    /// Each layer called with the mask the one before made (an Embedding's mask_zero); the last
    /// layer's output and mask. A subclass that overrides forward overrides this too (and
    /// forward_with_logits), as the calls through a parent Sequential and Model use them.
    Masked forward_masked(const Tensor& x, const Tensor& mask) override;

private:
    /// forward_with_logits for an input that carries `mask`: the last layer's logits, through a
    /// nested Sequential's last layer too.
    Activated logits_masked(const Tensor& x, const Tensor& mask);
};

}  // namespace xg
