#include "util/trace.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "util/hex.h"

namespace bc::util {

Result<std::unique_ptr<Trace>> Trace::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(Errc::io, "cannot open trace file " + path + ": " + std::strerror(errno));
  return std::unique_ptr<Trace>(new Trace(fd));
}

Result<std::unique_ptr<Trace>> Trace::from_env(const char* env_value) {
  if (env_value == nullptr || *env_value == '\0') return std::unique_ptr<Trace>();
  return open(env_value);
}

Trace::Trace(int fd) : fd_(fd), writer_([this] { run_writer(); }) {}

Trace::~Trace() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
  flush();
  ::close(fd_);
}

std::int64_t Trace::now_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1'000;
}

std::string Trace::envelope_key(ByteView envelope) {
  return "env=" + hex_encode(envelope.subspan(0, std::min<std::size_t>(8, envelope.size())));
}

void Trace::record(std::string_view stage, std::string_view key) { record_at(now_us(), stage, key); }

void Trace::record_at(std::int64_t at_us, std::string_view stage, std::string_view key) {
  std::string line = std::to_string(at_us);
  line.reserve(line.size() + stage.size() + key.size() + 3);
  line += ' ';
  line += stage;
  line += ' ';
  line += key;
  line += '\n';
  std::lock_guard lock(mu_);
  buffer_ += line;
}

void Trace::flush() {
  std::string chunk;
  std::lock_guard write_lock(write_mu_);
  {
    std::lock_guard lock(mu_);
    chunk.swap(buffer_);
  }
  write_out(chunk);
}

void Trace::write_out(std::string& chunk) {
  std::size_t done = 0;
  while (done < chunk.size()) {
    const ssize_t n = ::write(fd_, chunk.data() + done, chunk.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses stamps, never the node
    done += static_cast<std::size_t>(n);
  }
}

void Trace::run_writer() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, kFlushInterval, [this] { return stopping_; });
    if (buffer_.empty()) continue;
    lock.unlock();
    flush();
    lock.lock();
  }
}

}  // namespace bc::util
