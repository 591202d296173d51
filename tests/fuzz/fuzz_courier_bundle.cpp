// The courier bundle parser (channel/courier_bundle.h) on arbitrary bytes, three ways, chosen by
// the first byte:
//   0: the rest as a whole bundle file for a fixed home: it must be refused (a forger without the
//      sender's key cannot make one that opens);
//   1: the rest as the bundle's decrypted content (the item list, what open() parses once the
//      body authenticated): accepted only when it re-encodes to the same bytes;
//   2: a valid bundle from fixed keys with the rest XORed into it from an offset: it must open to
//      exactly what was sealed, or be refused.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "channel/courier_bundle.h"
#include "util/byte_io.h"

using namespace bc;
namespace courier = bc::channel::courier;

namespace {

struct Keys {
  crypto::SigningKey sender = crypto::SigningKey::generate();
  crypto::SigningKey recipient = crypto::SigningKey::generate();
  crypto::DhKeyPair recipient_prekey = crypto::DhKeyPair::generate();
  std::vector<courier::Item> items;
  util::Bytes sealed;
  Keys() {
    for (int i = 0; i < 3; ++i) {
      courier::Item item;
      item.kind = i == 0 ? courier::ItemKind::hello : courier::ItemKind::envelope;
      item.envelope.assign(2048, static_cast<std::uint8_t>(i + 1));
      items.push_back(item);
    }
    courier::Header h;
    h.sender = sender.public_key();
    h.recipient = recipient.public_key();
    h.created_at_ms = 1;
    h.expires_at_ms = 2;
    auto s = courier::seal(h, items, sender, recipient_prekey.public_key(), courier::kMinBundleSize);
    if (!s.ok()) std::abort();
    sealed = *s;
  }
};

Keys& keys() {
  static Keys k;
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Keys& k = keys();
  util::ByteView in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      if (courier::open(in, k.recipient.public_key(), k.recipient_prekey).ok()) std::abort();
      break;
    }
    case 1: {
      auto items = courier::parse_content(in);
      if (!items.ok()) break;
      util::ByteWriter w;
      w.u32(static_cast<std::uint32_t>(items->size()));
      for (const auto& item : *items) {
        w.u8(static_cast<std::uint8_t>(item.kind));
        w.bytes(item.envelope);
      }
      if (w.buffer() != util::Bytes(in.begin(), in.end())) std::abort();
      break;
    }
    default: {
      if (in.size() < 4) break;
      util::Bytes file = k.sealed;
      std::size_t at = (static_cast<std::size_t>(in[0]) << 16 | static_cast<std::size_t>(in[1]) << 8 | in[2]) % file.size();
      for (std::size_t i = 3; i < in.size() && at < file.size(); ++i, ++at) file[at] ^= in[i];
      auto opened = courier::open(file, k.recipient.public_key(), k.recipient_prekey);
      if (!opened.ok()) break;
      if (file != k.sealed) std::abort();  // a changed bundle must never open
      if (opened->items.size() != k.items.size()) std::abort();
      for (std::size_t i = 0; i < k.items.size(); ++i) {
        if (opened->items[i].kind != k.items[i].kind || opened->items[i].envelope != k.items[i].envelope) std::abort();
      }
      break;
    }
  }
  return 0;
}
