// Courier bundles written and imported (the courier_bundles table): the seen-set that makes a
// second import of a bundle change nothing, and the counts `status` shows.
#pragma once

#include <cstdint>
#include <optional>

#include "store/store.h"
#include "util/bytes.h"

namespace bc::store {

struct CourierBundleRow {
  util::Bytes bundle_id;  // 16 bytes
  bool incoming = false;
  std::int64_t contact_id = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::int64_t at_ms = 0;  // when written or imported
  std::int64_t size = 0;
  std::int64_t envelopes = 0;
};

struct CourierCounts {
  std::int64_t out = 0, in = 0;
  std::optional<std::int64_t> last_out_ms, last_in_ms;
};

class CourierBundles {
 public:
  explicit CourierBundles(Store& store) : store_(store) {}
  // Inside the caller's transaction; the row of an imported bundle commits with its envelopes.
  void record(const CourierBundleRow& row);
  // The imported bundle with this id, if it was imported before.
  std::optional<CourierBundleRow> find_incoming(util::ByteView bundle_id);
  CourierCounts counts(std::int64_t contact_id);

 private:
  Store& store_;
};

}  // namespace bc::store
