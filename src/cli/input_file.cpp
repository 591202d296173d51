#include "cli/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/format.h"

namespace bc::cli {

util::Result<std::string> read_input_file(const std::string& path, std::size_t max, const std::string& what) {
  using util::Errc;
  using util::make_error;
  const std::string too_large = what + " is at most " + format_size(max);
  std::string text;
  if (path == "-") {
    // Read one byte past the limit, so an endless stdin is refused rather than swallowed.
    std::istreambuf_iterator<char> it(std::cin), end;
    for (; it != end && text.size() <= max; ++it) text.push_back(*it);
    if (text.size() > max) return make_error(Errc::limit, "stdin holds more than " + too_large);
    return text;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return make_error(err == ENOENT ? Errc::not_found : Errc::io,
                      "cannot read '" + path + "': " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) return make_error(Errc::invalid_argument, "'" + path + "' is a folder, not " + what);
  if (static_cast<std::uint64_t>(st.st_size) > max) {
    return make_error(Errc::limit, "'" + path + "' is " + format_size(static_cast<std::uint64_t>(st.st_size)) +
                                       "; " + too_large);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "cannot read '" + path + "': " + std::strerror(errno));
  text.assign(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return make_error(Errc::io, "cannot read '" + path + "': " + std::strerror(errno));
  if (text.size() > max) return make_error(Errc::limit, "'" + path + "' grew while read; " + too_large);
  return text;
}

}  // namespace bc::cli
