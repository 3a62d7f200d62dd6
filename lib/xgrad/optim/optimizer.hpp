#pragma once
// Optimizer: updates any list of parameters in place from their gradients. Serves a
// Sequential and a hand-written model alike.
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/autograd/tensor.hpp"

namespace xg {

class Optimizer {
public:
    /// Throws ValueError for an empty list, a parameter that does not require a gradient,
    /// or a non-positive learning rate.
    Optimizer(std::string kind, std::vector<Tensor> parameters, float learning_rate);
    virtual ~Optimizer() = default;

    /// Forgets every parameter's gradient (the next backward starts from zero).
    void zero_grad();
    /// Applies one update to every parameter that has a gradient.
    void step();

    float learning_rate() const { return learning_rate_; }
    /// Changes the learning rate from the next step on (schedules, callbacks); throws
    /// ValueError unless accepts_learning_rate(lr).
    void set_learning_rate(float lr);
    /// Whether lr is a learning rate: finite and > 0.
    static bool accepts_learning_rate(float lr) { return lr > 0.0f && std::isfinite(lr); }
    const std::vector<Tensor>& parameters() const { return parameters_; }
    /// Steps taken so far.
    std::size_t iterations() const { return iterations_; }
    void set_iterations(std::size_t n) { iterations_ = n; }
    const std::string& kind() const { return kind_; }

    /// Named per-parameter state ("rms/dense_1/kernel", ...) for checkpoints; the arrays are live.
    std::vector<std::pair<std::string, Array*>> state();

protected:
    /// Adds a state slot of each parameter's shape, filled with zeros.
    void add_slot(const std::string& slot_name);
    Array& slot(std::size_t slot_index, std::size_t parameter_index) { return slots_[slot_index].second[parameter_index]; }
    /// Updates parameter `index` (value in place) from its gradient; called by step().
    virtual void update(std::size_t index, float* value, const float* grad, std::size_t n) = 0;
    /// Hook before a step's updates (bias corrections that depend on the step count).
    virtual void begin_step() {}

private:
    std::string kind_;
    std::vector<Tensor> parameters_;
    float learning_rate_;
    std::size_t iterations_ = 0;
    std::vector<std::pair<std::string, std::vector<Array>>> slots_;
};

}  // namespace xg
