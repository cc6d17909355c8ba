// The sync simulation in CI: a fixed set of seeds (simulation.h has the model and the
// oracle's rules). A failing seed prints its setup, the violated check and its history,
// shrunk; replay it with `bench/simulate.sh --seed S`.
#include "tests/simulation/simulation.h"

#include <gtest/gtest.h>

#include <set>

namespace ghl::sim {
namespace {

void RunSeeds(uint64_t from, uint64_t to, const std::set<uint64_t>& skip) {
  int failed = 0;
  for (uint64_t seed = from; seed <= to; ++seed) {
    if (skip.count(seed)) continue;
    SimOptions o;
    o.seed = seed;
    SimResult r = RunSeed(o);
    if (r.ok) continue;
    ++failed;
    if (failed > 5) {
      ADD_FAILURE() << "seed " << seed << " failed: " << r.check << ": " << r.details;
      continue;
    }
    auto shrunk = RunAndShrink(o);
    ADD_FAILURE() << Describe(o, shrunk.first, 60) << "\nsmallest failing run:\n"
                  << Describe(shrunk.smallest_options, shrunk.smallest, 400);
  }
}

TEST(Simulation, DISABLED_Seeds) { RunSeeds(1, 200, {}); }

}  // namespace
}  // namespace ghl::sim
