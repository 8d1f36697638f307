#include "bench/interleave.hpp"

namespace berth::bench {

std::vector<Slot> interleave(size_t runtimes, int warmup, int runs) {
  std::vector<Slot> out;
  if (runtimes == 0) return out;
  auto rounds = [&](int count, bool warm) {
    for (int i = 0; i < count; ++i)
      for (size_t r = 0; r < runtimes; ++r) out.push_back(Slot{r, i, warm});
  };
  rounds(warmup, true);
  rounds(runs, false);
  return out;
}

Selection select_runtimes(const std::vector<std::string>& requested,
                          const std::function<std::optional<std::string>(const std::string&, std::string*)>& locate) {
  Selection s;
  for (const auto& name : requested) {
    std::string reason;
    if (auto path = locate(name, &reason))
      s.found.emplace_back(name, *path);
    else
      s.skipped.push_back(Skipped{name, reason.empty() ? "not found" : reason});
  }
  return s;
}

}  // namespace berth::bench
