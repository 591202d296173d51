// Which direct addresses of one contact are kept, replaced and ignored (issue 10). A value with
// no I/O: the node feeds it what happened (an announcement, a dial that connected or failed, an
// operator's change) and dials what dial_list() returns; node/direct_addresses.h keeps its
// durable copy in the store.
//
// The rules, each with a unit test (tests/unit/node/address_book_test.cpp):
//   A1. Addresses given out of band (the invitation, `contact address add`) are never dropped
//       because of an announcement that carries no usable address.
//   A2. An announcement with at least one usable address replaces the addresses of earlier
//       announcements and of the invitation: the counterpart now speaks for itself. Manual
//       addresses stay until the operator removes them.
//   A3. An address that connected and is replaced (A2) stays as a fallback ("worked") until an
//       address connects again; then fallbacks other than that address go.
//   A4. Announced wildcard hosts and malformed addresses are ignored. Announced loopback and
//       link-local addresses are ignored unless the counterpart is on this machine: it is when a
//       direct connection with it has a loopback remote address, or when an address it gave out
//       of band (invitation, manual) is a loopback one. A machine elsewhere cannot be reached at
//       its own 127.0.0.1, and dialling it there would reach us or nothing.
//   A5. At most kMaxKnownAddresses entries; announced and fallback ones beyond it are not kept.
//   A6. A failure is remembered with its time and reason until the address connects again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/contact_addresses.h"
#include "util/result.h"

namespace bc::node {

inline constexpr std::size_t kMaxKnownAddresses = 8;

struct AddressFailure {
  std::int64_t at_ms = 0;
  std::string error;
};

// What an announcement did, for the log.
struct AnnouncementOutcome {
  bool changed = false;
  std::vector<std::string> ignored;  // "ADDRESS (why)"
};

class AddressBook {
 public:
  AddressBook() = default;
  explicit AddressBook(std::vector<store::ContactAddress> entries) : entries_(std::move(entries)) {}

  // When the counterpart's HELLO or CONTROL reachability frame was opened. A2-A5.
  AnnouncementOutcome apply_announcement(const std::vector<std::string>& announced,
                                         bool counterpart_local, std::int64_t now_ms);
  // `contact address add`: a checked HOST:PORT. Refused when the book is full.
  util::Result<void> add_manual(const std::string& address, std::int64_t now_ms);
  // `contact address remove`; false when unknown.
  bool remove(const std::string& address);

  // A dial to address connected (A3, A6) / failed (A6).
  void record_connected(const std::string& address, std::int64_t now_ms);
  void record_failed(const std::string& address, std::string error, std::int64_t now_ms);

  // Every address to keep dialling: all entries (A4 filtered what got in).
  std::vector<std::string> dial_list() const;
  // A4's out-of-band evidence: an invitation or manual address on loopback.
  bool oob_says_local() const;

  const std::vector<store::ContactAddress>& entries() const { return entries_; }
  const AddressFailure* failure(const std::string& address) const;

 private:
  store::ContactAddress* find(const std::string& address);

  std::vector<store::ContactAddress> entries_;
  std::map<std::string, AddressFailure> failures_;
};

// Why an announced address is not worth dialling, or nullopt when it is (A4).
std::optional<std::string> unusable_reason(const std::string& address, bool counterpart_local);

}  // namespace bc::node
