#include "common/trace.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/fs.hpp"
#include "common/json_escape.hpp"
#include "common/strings.hpp"

namespace berth::trace {

namespace {

Buffer* g_buffer = nullptr;
const char* g_path = nullptr;

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

void init_from_env() {
  const char* path = std::getenv("BERTH_TRACE");
  if (!path || !*path) return;
  void* mem = ::mmap(nullptr, sizeof(Buffer), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  g_buffer = static_cast<Buffer*>(mem);
  g_buffer->origin_ns = clock_ns(CLOCK_MONOTONIC);
  g_buffer->count = 0;
  g_path = path;
}

bool enabled() { return g_buffer != nullptr; }

Phase::Phase(const char* name, const char* process) : name_(name), process_(process) {
  if (!g_buffer) return;
  start_wall_ = clock_ns(CLOCK_MONOTONIC);
  start_cpu_ = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  open_ = true;
}

void Phase::end() {
  if (!open_) return;
  open_ = false;
  // The runtime and the init never write at the same time (the runtime
  // waits on the sync socket while the init works), so a plain increment
  // is enough.
  uint32_t i = __atomic_fetch_add(&g_buffer->count, 1, __ATOMIC_RELAXED);
  if (i >= std::size(g_buffer->marks)) return;
  Mark& m = g_buffer->marks[i];
  std::strncpy(m.name, name_, sizeof m.name - 1);
  std::strncpy(m.process, process_, sizeof m.process - 1);
  m.start_ns = start_wall_ - g_buffer->origin_ns;
  m.wall_ns = clock_ns(CLOCK_MONOTONIC) - start_wall_;
  m.cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - start_cpu_;
}

void flush(const std::string& id, const std::string& command) {
  if (!g_buffer) return;
  uint32_t n = std::min<uint32_t>(g_buffer->count, std::size(g_buffer->marks));
  std::vector<Mark> marks(g_buffer->marks, g_buffer->marks + n);
  std::sort(marks.begin(), marks.end(), [](const Mark& a, const Mark& b) { return a.start_ns < b.start_ns; });
  std::string out = cat("{\"id\":", json_quote(id), ",\"command\":", json_quote(command), ",\"pid\":", ::getpid(),
                        ",\"phases\":[");
  for (size_t i = 0; i < marks.size(); ++i) {
    const Mark& m = marks[i];
    out += cat(i ? "," : "", "{\"name\":", json_quote(m.name), ",\"process\":", json_quote(m.process),
               ",\"start_us\":", m.start_ns / 1000, ",\"wall_us\":", m.wall_ns / 1000, ",\"cpu_us\":", m.cpu_ns / 1000,
               "}");
  }
  out += cat("],\"wall_us\":", (clock_ns(CLOCK_MONOTONIC) - g_buffer->origin_ns) / 1000, "}\n");
  int fd = ::open(g_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    // One write(2): concurrent runtimes append whole lines.
    (void)write_all(fd, out, "trace");
    ::close(fd);
  }
  g_buffer->count = 0;
}

}  // namespace berth::trace
