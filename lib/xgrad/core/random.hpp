#pragma once
// The one random engine behind initializers, shuffling and dropout: seeding it makes a
// whole run repeatable.
#include <cstdint>
#include <random>
#include <string>

namespace xg {

/// The engine type; its state can be saved and restored as text (checkpoints).
using RandomEngine = std::mt19937_64;

/// This thread's engine (seeded with 0 until manual_seed is called).
RandomEngine& random_engine();
/// Reseeds this thread's engine.
void manual_seed(std::uint64_t seed);
/// The engine's full state as text, and back.
std::string random_state();
void set_random_state(const std::string& state);

}  // namespace xg
