#include "util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bc::util {
namespace {

Error io_error(const std::string& what, int err) {
  return make_error(Errc::io, what + ": " + std::strerror(err));
}

}  // namespace

Result<void> write_private_file(const std::filesystem::path& path, ByteView content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create " + tmp.string(), errno);
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("cannot write " + tmp.string(), err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot sync " + tmp.string(), err);
  }
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return make_error(Errc::already_exists, path.string() + " exists already");
    return io_error("cannot create " + path.string(), err);
  }
  ::unlink(tmp.c_str());
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

Result<void> read_private_file(const std::filesystem::path& path, std::size_t max_size,
                               const std::function<MutableByteView(std::size_t)>& buffer_for) {
  const std::string p = path.string();
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(Errc::not_found, p + " does not exist");
    return io_error("cannot open " + p, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("cannot stat " + p, err);
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return make_error(Errc::refused, p + " is readable by other users; run: chmod 600 " + p);
  }
  if (st.st_size <= 0 || static_cast<std::size_t>(st.st_size) > max_size) {
    ::close(fd);
    return make_error(Errc::bad_format, p + " has an unexpected size");
  }
  MutableByteView buf = buffer_for(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      ::close(fd);
      return io_error("cannot read " + p, err);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return {};
}

}  // namespace bc::util
