#pragma once
// Everything a user of xgrad needs, in one include.
#include "xgrad/autograd/grad_mode.hpp"
#include "xgrad/autograd/gradcheck.hpp"
#include "xgrad/autograd/tape.hpp"
#include "xgrad/autograd/tensor.hpp"
#include "xgrad/core/array.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/ops/ops.hpp"
#include "xgrad/core/random.hpp"
