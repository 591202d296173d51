// The durable side of AddressBook: loading a contact's book from the store and writing back
// what changed, row by row (so a `contact address add` made beside a running node is not
// erased by the node's next write). Called by the node's loop and by the CLI.
#pragma once

#include <vector>

#include "node/address_book.h"
#include "store/contacts.h"

namespace bc::node {

// Homes made before the contact_addresses table kept the addresses in contacts.reachability:
// copies them once as out-of-band ("invitation") entries, which is what they were for an
// invitee, and is the safe reading for an inviter (A1 keeps them until an announcement says
// better). Idempotent; run before anything reads the table. Call inside no transaction.
void import_legacy_addresses(store::Store& store);

AddressBook load_address_book(store::Store& store, std::int64_t contact_id);

// Writes the rows of `after` that differ from `before`, and deletes the ones it no longer has.
void save_address_book(store::Store& store, std::int64_t contact_id, const AddressBook& before,
                       const AddressBook& after);

// The out-of-band addresses of a contact added from an invitation.
void seed_invitation_addresses(store::Store& store, std::int64_t contact_id,
                               const std::vector<std::string>& addresses, std::int64_t now_ms);

}  // namespace bc::node
