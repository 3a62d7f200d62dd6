#pragma once
// The engine's list of a record's inputs (Record::inputs). Defined in autograd/tape.cpp.
#include <array>
#include <cstddef>
#include <memory>

#include "xgrad/autograd/detail/node.hpp"
#include "xgrad/autograd/tensor.hpp"

namespace xg {
class Tape;
}  // namespace xg

namespace xg::detail {

/// An op's forward inputs, in argument order. Up to two are held inline (every elementwise op),
/// so a scalar graph does not allocate a list per op. An input recorded on the same tape is
/// kept alive by its own record and is held here without a reference count (holding it again
/// would cost two atomic updates per op, for nothing).
class RecordInputs {
public:
    /// Holds `inputs`, recorded on `tape` in the current generation or not.
    void assign(const Tensor* inputs, std::size_t count, const Tape& tape);
    std::size_t size() const { return size_; }
    Node* operator[](std::size_t i) const { return slots()[i].get(); }
    /// A handle to input i.
    Tensor tensor(std::size_t i) const;

private:
    const std::shared_ptr<Node>* slots() const { return size_ <= kInline ? inline_.data() : more_.get(); }

    static constexpr std::size_t kInline = 2;
    std::array<std::shared_ptr<Node>, kInline> inline_;
    std::unique_ptr<std::shared_ptr<Node>[]> more_;  // all of them, when there are more than kInline
    std::size_t size_ = 0;
};

}  // namespace xg::detail
