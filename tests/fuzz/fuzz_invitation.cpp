// Feeds arbitrary text to the invitation parser: it must never crash, and anything it accepts
// must re-encode to an invitation that parses to the same fields; a version 3 invitation's
// ML-KEM key must hash to what its signature covers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "session/invitation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // A fixed "now" before any expiry the corpus uses, so valid inputs get past the expiry check.
  auto inv = bc::session::decode_invitation(text, 1'700'000'000);
  if (inv.ok()) {
    if (inv->name.empty() || !bc::session::check_name(inv->name).ok()) std::abort();
    auto reach = bc::session::decode_reachability(bc::session::encode_reachability(inv->reachability));
    if (!reach.ok() || !(*reach == inv->reachability)) std::abort();
    if (inv->version == 3 && (!inv->kem || bc::session::kem_key_hash(inv->kem->key) != inv->kem->hash)) std::abort();
    if (inv->version == 2 && inv->kem) std::abort();
  }
  return 0;
}
