#include "xgrad/autograd/functional.hpp"

#include <unordered_set>

#include <fmt/format.h>

#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor_rule.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"

namespace xg {

using detail::Node;
using detail::make_node;
using detail::walk_tensor_gradients;

namespace {

Tensor ones_like(const Tensor& t) {
    if (t.node()->is_scalar()) return Tensor(make_node(1.0f, Role::constant, false));
    return constant(xt::ones<float>(t.shape()));
}

// Array shape a ++ b.
Shape joined(const Shape& a, const Shape& b) {
    Shape s = a;
    s.insert(s.end(), b.begin(), b.end());
    return s;
}

// A one-hot seed of `shape` with a 1 at flat index k.
Tensor unit(const Shape& shape, std::size_t k) {
    Array e = xt::zeros<float>(shape);
    e.data()[k] = 1.0f;
    return constant(std::move(e));
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOptions& options) {
    const bool retain = options.retain_graph.value_or(options.create_graph);
    if (options.create_graph && !retain) {
        throw ValueError("grad: retain_graph is false with create_graph; expected retain_graph true (the recorded "
                         "gradients refer to the graph), or leave it unset");
    }
    if (outputs.empty()) throw ValueError("grad: no outputs given; expected at least one");
    if (!options.grad_outputs.empty() && options.grad_outputs.size() != outputs.size()) {
        throw ValueError(fmt::format("grad: {} grad_outputs for {} outputs; expected one per output, or none",
                                     options.grad_outputs.size(), outputs.size()));
    }
    Tape& tape = Tape::current();
    std::vector<Tensor> seeds;
    for (std::size_t k = 0; k < outputs.size(); ++k) {
        const Tensor& y = outputs[k];
        if (!y.defined()) throw StateError(fmt::format("grad: output {} is an empty tensor handle; expected a result of ops", k));
        if (!y.requires_grad()) {
            throw StateError(fmt::format("grad: output {} {} does not require a gradient; expected a result of ops on "
                                         "tensors that require one (was it computed under NoGradGuard or detached?)",
                                         k, format_shape(y.shape())));
        }
        if (y.role() == Role::result && !tape.holds(*y.node())) {
            throw StateError(fmt::format("grad: output {} was recorded on a tape that has since been cleared (by backward, "
                                         "grad or Tape::clear); expected a freshly computed result, or retain_graph=true "
                                         "on the earlier walk", k));
        }
        if (!options.grad_outputs.empty()) {
            const Tensor& seed = options.grad_outputs[k];
            if (!seed.defined() || seed.shape() != y.shape()) {
                throw ShapeError(fmt::format("grad: grad_outputs[{}] has shape {}; expected the output's shape {}", k,
                                             seed.defined() ? format_shape(seed.shape()) : std::string("(empty handle)"),
                                             format_shape(y.shape())));
            }
            seeds.push_back(seed);
        } else if (y.size() != 1) {
            throw ShapeError(fmt::format("grad: output {} has shape {}; expected a single element, or pass grad_outputs",
                                         k, format_shape(y.shape())));
        } else {
            seeds.push_back(ones_like(y));
        }
    }
    std::unordered_set<const Node*> wanted;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) throw StateError(fmt::format("grad: input {} is an empty tensor handle; expected a tensor", i));
        if (!inputs[i].requires_grad()) {
            throw ValueError(fmt::format("grad: input {} {} does not require a gradient; expected a parameter or a result "
                                         "of ops on one", i, format_shape(inputs[i].shape())));
        }
        wanted.insert(inputs[i].node());
    }
    std::unordered_map<const Node*, Tensor> grads;
    try {
        grads = walk_tensor_gradients(outputs, seeds, wanted, options.create_graph, false);
    } catch (...) {
        if (!retain) tape.clear();
        throw;
    }
    if (!retain) tape.clear();
    std::vector<Tensor> result;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        auto it = grads.find(inputs[i].node());
        if (it == grads.end() && !options.allow_unused) {
            throw ValueError(fmt::format("grad: input {} {} is not reached from the outputs; expected an input they "
                                         "depend on, or allow_unused", i, format_shape(inputs[i].shape())));
        }
        result.push_back(it == grads.end() ? Tensor() : it->second);
    }
    return result;
}

Tensor grad(const Tensor& output, const Tensor& input, const GradOptions& options) {
    return grad(std::vector<Tensor>{output}, std::vector<Tensor>{input}, options)[0];
}

std::vector<Tensor> hvp(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& params,
                        const std::vector<Tensor>& v) {
    if (v.size() != params.size()) {
        throw ValueError(fmt::format("hvp: {} vectors for {} parameters; expected one per parameter", v.size(), params.size()));
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].defined() || v[i].shape() != params[i].shape()) {
            throw ShapeError(fmt::format("hvp: v[{}] has shape {}; expected the parameter's shape {}", i,
                                         v[i].defined() ? format_shape(v[i].shape()) : std::string("(empty handle)"),
                                         format_shape(params[i].shape())));
        }
    }
    GradModeGuard recording(true);
    Tensor y = f(params);
    if (!y.defined() || y.size() != 1) {
        throw ShapeError(fmt::format("hvp: f returned shape {}; expected a single element",
                                     y.defined() ? format_shape(y.shape()) : std::string("(empty handle)")));
    }
    GradOptions first;
    first.create_graph = true;
    first.allow_unused = true;
    std::vector<Tensor> g = grad({y}, params, first);
    // grad f . v: a scalar whose gradient is H v (v is held constant)
    Tensor dot;
    for (std::size_t i = 0; i < g.size(); ++i) {
        if (!g[i].defined() || !g[i].requires_grad()) continue;  // gradient constant in the parameters: H's rows are 0
        Tensor term = sum(g[i] * v[i].detach());
        dot = dot.defined() ? dot + term : term;
    }
    std::vector<Tensor> result;
    if (!dot.defined()) {
        Tape::current().clear();
        for (const Tensor& p : params) result.push_back(constant(xt::zeros<float>(p.shape())));
        return result;
    }
    GradOptions second;
    second.allow_unused = true;
    std::vector<Tensor> hv = grad({dot}, params, second);
    for (std::size_t i = 0; i < hv.size(); ++i) {
        result.push_back(hv[i].defined() ? constant(Array(hv[i].value())) : constant(xt::zeros<float>(params[i].shape())));
    }
    return result;
}

Array jacobian(const std::function<Tensor(const Tensor&)>& f, const Array& x) {
    GradModeGuard recording(true);
    Tensor at(x, true);
    Tensor y = f(at);
    if (!y.defined()) throw StateError("jacobian: f returned an empty tensor handle; expected a tensor");
    Array result = xt::zeros<float>(joined(y.shape(), x.shape()));
    if (!y.requires_grad()) return result;  // y does not depend on x
    const std::size_t n = y.size(), m = x.size();
    if (n == 0) Tape::current().clear();  // no walk below clears it
    for (std::size_t k = 0; k < n; ++k) {
        GradOptions options;
        options.grad_outputs = {unit(y.shape(), k)};
        options.retain_graph = k + 1 < n;
        options.allow_unused = true;
        Tensor row = grad(y, at, options);
        if (row.defined()) std::copy(row.value().begin(), row.value().end(), result.data() + k * m);
    }
    return result;
}

Array hessian(const std::function<Tensor(const Tensor&)>& f, const Array& x) {
    GradModeGuard recording(true);
    Tensor at(x, true);
    Tensor y = f(at);
    if (!y.defined() || y.size() != 1) {
        throw ShapeError(fmt::format("hessian: f returned shape {}; expected a single element",
                                     y.defined() ? format_shape(y.shape()) : std::string("(empty handle)")));
    }
    const std::size_t m = x.size();
    Array result = xt::zeros<float>(joined(x.shape(), x.shape()));
    if (!y.requires_grad()) return result;
    GradOptions first;
    first.create_graph = true;
    first.allow_unused = true;
    Tensor g = grad(y, at, first);
    if (!g.defined() || !g.requires_grad()) {  // f is at most linear in x
        Tape::current().clear();
        return result;
    }
    if (m == 0) Tape::current().clear();
    for (std::size_t k = 0; k < m; ++k) {
        GradOptions options;
        options.grad_outputs = {unit(x.shape(), k)};
        options.retain_graph = k + 1 < m;
        options.allow_unused = true;
        Tensor row = grad(g, at, options);
        if (row.defined()) std::copy(row.value().begin(), row.value().end(), result.data() + k * m);
    }
    return result;
}

}  // namespace xg
