#include "channel/relay_capability.h"

#include <algorithm>
#include <string_view>

namespace bc::channel {
namespace {
constexpr std::string_view kCapabilityLabel = "backchannel relay capability v1";
}  // namespace

crypto::Hash relay_capability_hash(const wire::relay::Capability& capability) {
  return crypto::blake2b({util::as_bytes(kCapabilityLabel), capability});
}

wire::relay::CapabilityId relay_capability_id_from_hash(const crypto::Hash& hash) {
  wire::relay::CapabilityId id{};
  std::copy_n(hash.begin(), id.size(), id.begin());
  return id;
}

wire::relay::CapabilityId relay_capability_id(const wire::relay::Capability& capability) {
  return relay_capability_id_from_hash(relay_capability_hash(capability));
}

}  // namespace bc::channel
