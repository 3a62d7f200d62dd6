#pragma once
// The exception types xgrad throws. Messages follow one pattern:
//   "<function>: <what is wrong> (<actual>); expected <rule>"
// so a user can tell from the message alone which call failed and why.
#include <stdexcept>
#include <string>

namespace xg {

/// A tensor argument has the wrong shape, rank or axis for the op it was given to.
class ShapeError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// An argument other than a shape is out of its domain (negative units, unknown name, ...).
class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// A call that is valid in itself but not in the current state (backward on a cleared tape, ...).
class StateError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// A file could not be read or written, or holds something other than it should.
class IoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A computation produced NaN or Inf where anomaly detection or a caller asked for finite values.
class NumericError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace xg
