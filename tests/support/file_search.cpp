#include "support/file_search.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <unordered_map>

namespace bc::test {
namespace {

util::Bytes read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return util::Bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uint64_t prefix_of(const std::uint8_t* p) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

bool file_contains(const std::filesystem::path& path, util::ByteView needle) {
  const util::Bytes bytes = read_all(path);
  return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end();
}

std::vector<std::size_t> needles_in_file(const std::filesystem::path& path, const std::vector<util::Bytes>& needles) {
  std::unordered_multimap<std::uint64_t, std::size_t> by_prefix;
  for (std::size_t i = 0; i < needles.size(); ++i) {
    if (needles[i].size() < sizeof(std::uint64_t)) throw std::invalid_argument("needles_in_file: a needle under 8 bytes");
    by_prefix.emplace(prefix_of(needles[i].data()), i);
  }
  const util::Bytes bytes = read_all(path);
  std::vector<std::size_t> found;
  for (std::size_t at = 0; at + sizeof(std::uint64_t) <= bytes.size(); ++at) {
    auto [first, last] = by_prefix.equal_range(prefix_of(bytes.data() + at));
    for (auto it = first; it != last; ++it) {
      const util::Bytes& n = needles[it->second];
      if (at + n.size() <= bytes.size() && std::equal(n.begin(), n.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at)) &&
          std::find(found.begin(), found.end(), it->second) == found.end()) {
        found.push_back(it->second);
      }
    }
  }
  return found;
}

}  // namespace bc::test
