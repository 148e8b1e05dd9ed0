#pragma once
// Seeded mutation corpus for the GGUF parser. A few valid seed files are built with GgufWriter;
// each corpus entry i applies 1-3 mutations chosen by std::mt19937_64(seed, i) to one seed:
// bit flips, interesting byte values, truncation, byte insertion/deletion, splices, and
// structure-aware corruption of length, count, type, dimension and offset fields (the seeds'
// field positions are found by walking them). Deterministic: the same (seed, i) gives the same
// bytes on every machine.
#include <cstdint>
#include <string>
#include <vector>

namespace moe::fuzz {

/// The valid seed files (also used as the libFuzzer starting corpus).
std::vector<std::vector<uint8_t>> make_seeds();

/// Corpus entry `index` for `seed`. `kind` receives a short name of the mutations applied.
std::vector<uint8_t> make_mutant(const std::vector<std::vector<uint8_t>>& seeds, uint64_t seed,
                                 uint64_t index, std::string* kind = nullptr);

}  // namespace moe::fuzz
