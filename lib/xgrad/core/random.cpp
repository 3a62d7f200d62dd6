#include "xgrad/core/random.hpp"

#include <sstream>

#include "xgrad/core/error.hpp"

namespace xg {

RandomEngine& random_engine() {
    thread_local RandomEngine engine(0);
    return engine;
}

void manual_seed(std::uint64_t seed) { random_engine().seed(seed); }

std::string random_state() {
    std::ostringstream out;
    out << random_engine();
    return out.str();
}

void set_random_state(const std::string& state) {
    std::istringstream in(state);
    RandomEngine restored;
    in >> restored;
    if (in.fail()) throw ValueError("set_random_state: text is not a saved engine state; expected random_state() output");
    random_engine() = restored;
}

}  // namespace xg
