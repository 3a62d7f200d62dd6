#pragma once
// A bound on how many values the built-in initializers may make, for code that builds layers
// from settings it did not choose: load_model reads a layer's sizes from a file, and a corrupt or
// hostile "units": "1000000000" must be a named error, not gigabytes allocated and filled.
// Defined in nn/initializer.cpp.
#include <cstddef>
#include <optional>

#include "xgrad/core/array.hpp"

namespace xg::detail {

/// While alive, the built-in initializers of this thread make at most `values` values in all;
/// one that would make more throws ValueError naming the shape and what is left. Budgets nest:
/// the innermost is in force, and the outer one is back when it ends.
class InitializerBudget {
public:
    /// What a budget has left of what it allowed.
    struct Values {
        std::size_t left = 0, allowed = 0;
    };

    explicit InitializerBudget(std::size_t values);
    ~InitializerBudget();
    InitializerBudget(const InitializerBudget&) = delete;
    InitializerBudget& operator=(const InitializerBudget&) = delete;

private:
    std::optional<Values> outer_;
};

/// Takes the values of `shape` from the budget in force, if one is; the built-in initializers call
/// it before they allocate.
void claim_initializer_values(const Shape& shape);

}  // namespace xg::detail
