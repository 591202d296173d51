// The direct addresses of each contact and where each came from (issue 10). The rules for which
// are kept, replaced and ignored live in node/address_book.h; this is their durable copy, which
// both the node and `contact address add|remove` write, row by row (so neither erases the
// other's change).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "util/result.h"

namespace bc::store {

enum class AddressSource {
  invitation,  // in the invitation we accepted (out of band)
  manual,      // `contact address add` (out of band)
  announced,   // in the contact's HELLO or CONTROL reachability frame
  worked,      // replaced by an announcement, kept because it connected last
};
const char* address_source_name(AddressSource source);
std::optional<AddressSource> parse_address_source(std::string_view name);

struct ContactAddress {
  std::string address;  // HOST:PORT
  AddressSource source = AddressSource::announced;
  std::int64_t added_at_ms = 0;
  std::optional<std::int64_t> last_ok_ms;  // last time a connection to it was made
  bool operator==(const ContactAddress&) const = default;
};

class ContactAddresses {
 public:
  explicit ContactAddresses(Store& store) : store_(store) {}

  std::vector<ContactAddress> list(std::int64_t contact_id);  // in the order added
  // Inserts, or replaces the row of the same address.
  void put(std::int64_t contact_id, const ContactAddress& address);
  // False when there was no such row.
  bool remove(std::int64_t contact_id, std::string_view address);

 private:
  Store& store_;
};

}  // namespace bc::store
