// The node's lock (node.lock in the home), held while a command writes what a running node
// would otherwise own (driving a Link, rotating the prekey). Not held: a node runs, ask it.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

namespace bc::cli {

class HomeLock {
 public:
  explicit HomeLock(const std::filesystem::path& home) {
    fd_ = ::open((home / "node.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~HomeLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  HomeLock(const HomeLock&) = delete;
  HomeLock& operator=(const HomeLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace bc::cli
