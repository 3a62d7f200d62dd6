#pragma once
// The FitOptions most tests train with: `epochs` of batches of `batch_size`, nothing printed,
// nothing held out.
#include <cstddef>

#include "xgrad/train/model.hpp"

namespace xg::test {

inline FitOptions quiet_fit(std::size_t epochs, std::size_t batch_size) {
    FitOptions options;
    options.epochs = epochs;
    options.batch_size = batch_size;
    options.verbose = 0;
    return options;
}

}  // namespace xg::test
