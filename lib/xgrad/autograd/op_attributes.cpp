#include "xgrad/autograd/op_attributes.hpp"

#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "xgrad/core/error.hpp"

namespace xg {

long AttributeValue::whole(unsigned long long number) {
    if (number > static_cast<unsigned long long>(std::numeric_limits<long>::max())) {
        throw ValueError(fmt::format("AttributeValue: {} is past the largest whole number an op attribute holds ({})",
                                     number, std::numeric_limits<long>::max()));
    }
    return static_cast<long>(number);
}

OpAttributes::OpAttributes(std::initializer_list<Entry> entries) {
    for (const Entry& e : entries) add(e.name, e.value);
}

OpAttributes& OpAttributes::add(std::string name, AttributeValue value) {
    if (name.empty()) throw ValueError("OpAttributes::add: an empty name; expected the setting's name, as \"axis\"");
    if (has(name)) {
        throw ValueError(fmt::format("OpAttributes::add: '{}' is already set; expected each name once", name));
    }
    entries_.push_back({std::move(name), std::move(value)});
    return *this;
}

OpAttributes& OpAttributes::add(const OpAttributes& more) {
    for (const Entry& e : more.entries_) add(e.name, e.value);
    return *this;
}

const AttributeValue* OpAttributes::find(std::string_view name) const {
    for (const Entry& e : entries_) {
        if (e.name == name) return &e.value;
    }
    return nullptr;
}

namespace {

const char* kind_of(const AttributeValue::Variant& v) {
    static constexpr const char* kinds[] = {"a flag", "a whole number", "a real number", "a tuple", "a word"};
    return kinds[v.index()];
}

// A label stays readable for a gather's hundreds of indices: the first few and the count.
std::string format_tuple(const std::vector<long>& tuple) {
    constexpr std::size_t kShown = 8;
    if (tuple.size() == 1) return fmt::format("({},)", tuple.front());
    if (tuple.size() <= kShown) return fmt::format("({})", fmt::join(tuple, ", "));
    return fmt::format("({}, ... {} in all)", fmt::join(tuple.begin(), tuple.begin() + kShown, ", "), tuple.size());
}

}  // namespace

template <class T>
const T& OpAttributes::read(std::string_view name, const char* kind) const {
    const AttributeValue* v = find(name);
    if (v == nullptr) {
        throw ValueError(fmt::format("OpAttributes: no '{}' among the op's settings ({}); expected {}", name,
                                     empty() ? "none" : to_string(), kind));
    }
    const T* value = std::get_if<T>(&v->get());
    if (value == nullptr) {
        throw ValueError(fmt::format("OpAttributes: '{}' is {}; expected {}", name, kind_of(v->get()), kind));
    }
    return *value;
}

bool OpAttributes::flag(std::string_view name) const { return has(name) && read<bool>(name, "a flag"); }
long OpAttributes::integer(std::string_view name) const { return read<long>(name, "a whole number"); }
float OpAttributes::number(std::string_view name) const { return read<float>(name, "a real number"); }
const std::vector<long>& OpAttributes::integers(std::string_view name) const {
    return read<std::vector<long>>(name, "a tuple");
}
const std::string& OpAttributes::word(std::string_view name) const { return read<std::string>(name, "a word"); }

std::string OpAttributes::to_string() const {
    std::string text;
    for (const Entry& e : entries_) {
        const auto& v = e.value.get();
        if (const bool* flag = std::get_if<bool>(&v); flag != nullptr && !*flag) continue;
        if (!text.empty()) text += ", ";
        text += e.name;
        if (std::holds_alternative<bool>(v)) continue;
        text += '=';
        if (const auto* tuple = std::get_if<std::vector<long>>(&v)) {
            text += format_tuple(*tuple);
        } else {
            std::visit([&text](const auto& x) {
                if constexpr (!std::same_as<std::decay_t<decltype(x)>, std::vector<long>>) text += fmt::format("{}", x);
            }, v);
        }
    }
    return text;
}

}  // namespace xg
