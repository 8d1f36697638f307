// The order in which the benchmark runs containers: runtimes take turns
// (A B C A B C ...) so that a slow drift of the machine's load hits all of
// them alike, first for the warm-up runs and then for the measured ones.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace berth::bench {

/// One container run in the schedule.
struct Slot {
  size_t runtime = 0;  // index into the runtimes being compared
  int iteration = 0;   // 0-based, counted separately for warm-up and measured runs
  bool warmup = false;
};

/// `warmup` rounds, then `runs` rounds; each round runs every one of
/// `runtimes` once, in index order. Negative counts are treated as zero.
std::vector<Slot> interleave(size_t runtimes, int warmup, int runs);

/// A runtime that was asked for but cannot be used.
struct Skipped {
  std::string name;
  std::string reason;
};

/// The requested runtimes in order, split into those `locate` finds (it
/// returns the binary's path) and those it does not (it returns nothing and
/// sets the reason).
struct Selection {
  std::vector<std::pair<std::string, std::string>> found;  // name, path
  std::vector<Skipped> skipped;
};
Selection select_runtimes(const std::vector<std::string>& requested,
                          const std::function<std::optional<std::string>(const std::string&, std::string*)>& locate);

}  // namespace berth::bench
