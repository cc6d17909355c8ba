// ghl-simulate: runs seeds of the in-process sync simulation (simulation.h) and prints a
// table; `--seed S` replays one seed verbosely, shrunk when it fails. bench/simulate.sh
// builds and runs it.
//
//   ghl-simulate [N] [--from F]     seeds F .. F+N-1 (default 10000 seeds from 1)
//   ghl-simulate --seed S [--quiet] one seed, its whole history; exit 1 when it fails
//     [--records N] [--rounds N] [--no-faults] [--no-webhook-faults] [--no-crashes]
//                                   replay a shrunk run (the options it prints)
//   --no-unlinked-pairs             (both) no record on both sides before it is linked
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tests/simulation/simulation.h"

int main(int argc, char** argv) {
  int64_t count = 10'000;
  uint64_t from = 1;
  int64_t seed = -1;
  bool quiet = false;
  bool unlinked_pairs = true;
  bool print_passing = false;  // one line of the seeds that pass (for simulation_test.cc)
  int records = -1, rounds = -1;
  bool faults = true, webhook_faults = true, crashes = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoll(argv[++i], nullptr, 10);
    } else if (a == "--from" && i + 1 < argc) {
      from = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--records" && i + 1 < argc) {
      records = std::atoi(argv[++i]);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--print-passing") {
      print_passing = true;
    } else if (a == "--no-faults") {
      faults = false;
    } else if (a == "--no-webhook-faults") {
      webhook_faults = false;
    } else if (a == "--no-crashes") {
      crashes = false;
    } else if (a == "--no-unlinked-pairs") {
      unlinked_pairs = false;
    } else if (a == "--quiet") {
      quiet = true;
    } else if (!a.empty() && a[0] != '-') {
      count = std::strtoll(a.c_str(), nullptr, 10);
    } else {
      std::cerr << "usage: ghl-simulate [N] [--from F] | --seed S [--quiet]\n";
      return 2;
    }
  }
  using ghl::sim::Describe;
  using ghl::sim::RunAndShrink;
  using ghl::sim::SimOptions;
  if (seed >= 0) {
    SimOptions o;
    o.seed = static_cast<uint64_t>(seed);
    o.verbose = !quiet;
    o.unlinked_pairs = unlinked_pairs;
    o.records = records;
    o.rounds = rounds;
    o.faults = faults;
    o.webhook_faults = webhook_faults;
    o.crashes = crashes;
    auto shrunk = RunAndShrink(o);
    std::cout << Describe(o, shrunk.first, quiet ? 300 : 100'000);
    if (!shrunk.first.ok) {
      std::cout << "\nsmallest failing run found:\n"
                << Describe(shrunk.smallest_options, shrunk.smallest, 100'000);
    }
    return shrunk.first.ok ? 0 : 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  int64_t edits = 0, steps = 0;
  std::map<std::string, std::vector<uint64_t>> failures;
  std::vector<uint64_t> passing;
  for (int64_t i = 0; i < count; ++i) {
    SimOptions o;
    o.seed = from + static_cast<uint64_t>(i);
    o.unlinked_pairs = unlinked_pairs;
    auto r = ghl::sim::RunSeed(o);
    edits += r.edits;
    steps += r.steps;
    if (!r.ok) failures[r.check].push_back(o.seed);
    if (r.ok) passing.push_back(o.seed);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t failed = 0;
  for (const auto& [_, seeds] : failures) failed += static_cast<int64_t>(seeds.size());
  std::printf("%-22s %12s\n", "metric", "value");
  std::printf("%-22s %12lld\n", "seeds", static_cast<long long>(count));
  std::printf("%-22s %12.1f\n", "seeds/s", static_cast<double>(count) / secs);
  std::printf("%-22s %12lld\n", "edits simulated", static_cast<long long>(edits));
  std::printf("%-22s %12lld\n", "daemon steps", static_cast<long long>(steps));
  std::printf("%-22s %12lld\n", "failed seeds", static_cast<long long>(failed));
  std::printf("%-22s %12.1f\n", "seconds", secs);
  for (const auto& [check, seeds] : failures) {
    std::printf("failed %-12s %5zu:", check.c_str(), seeds.size());
    for (size_t k = 0; k < seeds.size() && k < 40; ++k) {
      std::printf(" %llu", static_cast<unsigned long long>(seeds[k]));
    }
    std::printf("%s\n", seeds.size() > 40 ? " ..." : "");
  }
  if (print_passing) {
    std::printf("passing:");
    for (uint64_t p : passing) std::printf(" %llu,", static_cast<unsigned long long>(p));
    std::printf("\n");
  }
  return failed == 0 ? 0 : 1;
}
