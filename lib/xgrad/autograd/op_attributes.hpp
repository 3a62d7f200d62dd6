#pragma once
// An op's settings as its record keeps them: "axis" = 1, "keepdims" = true. They are typed so
// that what reads them back (export_onnx) gets the numbers the op ran with instead of parsing
// display text, and ordered, since to_string shows them in the order they were given.
#include <concepts>
#include <initializer_list>
#include <ranges>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace xg {

/// One setting: a flag, a whole number, a real number (the float the op ran with), a tuple of
/// whole numbers or a word.
class AttributeValue {
public:
    using Variant = std::variant<bool, long, float, std::vector<long>, std::string>;

    AttributeValue(bool flag) : value_(flag) {}
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, char>)
    AttributeValue(T number) : value_(whole(number)) {}
    template <std::floating_point T>
    AttributeValue(T number) : value_(static_cast<float>(number)) {}
    /// A tuple from any range of whole numbers: a Shape, a Size2, a permutation.
    template <std::ranges::input_range R>
        requires std::integral<std::ranges::range_value_t<R>> &&
                 (!std::same_as<std::ranges::range_value_t<R>, char>)
    AttributeValue(const R& numbers) : value_(std::vector<long>{}) {
        auto& tuple = std::get<std::vector<long>>(value_);
        for (auto n : numbers) tuple.push_back(whole(n));
    }
    AttributeValue(std::string word) : value_(std::move(word)) {}
    AttributeValue(std::string_view word) : value_(std::string(word)) {}
    AttributeValue(const char* word) : value_(std::string(word)) {}

    const Variant& get() const { return value_; }

private:
    // Throws ValueError for an unsigned number past the largest long (no op has one).
    static long whole(unsigned long long number);
    static long whole(long long number) { return static_cast<long>(number); }
    template <std::integral T>
    static long whole(T number) {
        if constexpr (std::is_signed_v<T>) {
            return whole(static_cast<long long>(number));
        } else {
            return whole(static_cast<unsigned long long>(number));
        }
    }

    Variant value_;
};

/// The named settings of one recorded op, in the order they were given.
class OpAttributes {
public:
    struct Entry {
        std::string name;
        AttributeValue value;
    };

    OpAttributes() = default;
    /// Throws ValueError for a name given twice or an empty name.
    OpAttributes(std::initializer_list<Entry> entries);

    /// Appends a setting; throws ValueError for a name already there or an empty name.
    OpAttributes& add(std::string name, AttributeValue value);
    /// Appends every setting of `more` (the window settings shared by the conv and pooling ops).
    OpAttributes& add(const OpAttributes& more);

    bool empty() const { return entries_.empty(); }
    const std::vector<Entry>& entries() const { return entries_; }
    bool has(std::string_view name) const { return find(name) != nullptr; }

    // Readers: each throws ValueError naming the setting when it is absent or of another kind.
    /// A flag; an absent flag is false.
    bool flag(std::string_view name) const;
    long integer(std::string_view name) const;
    float number(std::string_view name) const;
    const std::vector<long>& integers(std::string_view name) const;
    const std::string& word(std::string_view name) const;

    /// "axis=1, keepdims": a true flag by its name, a false one not at all, a tuple as "(2, 2)"
    /// (one number as "(3,)", more than eight as the first eight and the count), a real number in
    /// the fewest digits that read back as it.
    std::string to_string() const;

private:
    const AttributeValue* find(std::string_view name) const;
    template <class T>
    const T& read(std::string_view name, const char* kind) const;

    std::vector<Entry> entries_;
};

}  // namespace xg
