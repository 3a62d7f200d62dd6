#pragma once
// The op view: the recorded computation as a Graphviz DOT graph. Each record is a box with
// its op name, attributes and output shape; inputs, parameters and constants are leaves of
// their own shape and colour; edges run in data-flow order labelled with tensor shapes;
// ops recorded inside a module sit in a cluster named after its scope ("model/dense_1").
#include <string>

#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor.hpp"

namespace xg {

/// What the op view draws besides ops, leaves and shapes.
struct GraphOptions {
    /// Draws in bold red what backward goes through: ops, parameters that require a gradient, and the edges from them.
    bool gradient_path = false;
    /// Adds each node's gradient L2 norm when it has one ("no gradient" on trained parameters without one).
    bool gradient_norms = false;
    /// Layout direction: "TB" (top to bottom), "LR", "BT" or "RL".
    std::string rankdir = "TB";
};

/// DOT text of every record on `tape`, in recording order.
std::string ops_to_dot(const Tape& tape, const GraphOptions& options = {});

/// DOT text of the records on this thread's tape that `output` depends on; throws StateError if its tape was cleared.
std::string ops_to_dot(const Tensor& output, const GraphOptions& options = {});

}  // namespace xg
