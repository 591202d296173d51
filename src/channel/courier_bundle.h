// The courier bundle (docs/protocol.md "Courier bundle"): the file a courier carries by hand.
// Nothing in clear but a magic and a version; the rest is encrypted to the recipient's X25519
// key (an ephemeral X25519 agreement, HKDF-SHA-256, XChaCha20-Poly1305 from libsodium) and signed
// by the sender's Ed25519 identity key; the file is padded to a size bucket inside the
// encryption. Pure functions: no file, no clock; the caller checks expiry, the seen-set and that
// the sender is a contact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/dh.h"
#include "crypto/sign.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::channel::courier {

// ---- spec constants (docs/protocol.md) --------------------------------------------------------
inline constexpr std::string_view kMagic = "bcbundle";  // 8 bytes
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::string_view kKeyLabel = "backchannel courier key v1";
inline constexpr std::string_view kSignatureLabel = "backchannel courier bundle v1";
inline constexpr std::size_t kBundleIdSize = 16;
inline constexpr std::size_t kSignedHeaderSize = 32 + 32 + kBundleIdSize + 8 + 8 + 8 + 32;  // 136
inline constexpr std::size_t kHeaderSize = kSignedHeaderSize + 64;                             // 200
inline constexpr std::size_t kPrefixSize = 8 + 1 + 32;  // magic, version, ephemeral key
inline constexpr std::size_t kOverhead = kPrefixSize + (kHeaderSize + 16) + 16;
enum class ItemKind : std::uint8_t { hello = 1, envelope = 2 };
inline constexpr std::size_t kItemSize = 1 + 2048;  // kind, one envelope (wire::kEnvelopeSize)

// ---- implementation limits ---------------------------------------------------------------------
inline constexpr std::size_t kMinBundleSize = std::size_t{64} << 10;   // the smallest bucket of a file
// A bundle for paper (courier export --qr) is padded to a smaller bucket, powers of two from
// 4 KiB to 16 KiB (1 to 7 envelopes), so that it fits a few QR codes (courier_paper.h).
inline constexpr std::size_t kMinPaperBundleSize = std::size_t{4} << 10;
inline constexpr std::size_t kMaxPaperBundleSize = std::size_t{16} << 10;
inline constexpr std::size_t kMaxBundleSize = std::size_t{256} << 20;  // refused above, unread
inline constexpr std::size_t kMaxItems = (kMaxBundleSize - kOverhead - 4) / kItemSize;

using BundleId = util::ByteArray<kBundleIdSize>;

struct Item {
  ItemKind kind = ItemKind::envelope;
  util::Bytes envelope;  // exactly wire::kEnvelopeSize bytes
};

struct Header {
  crypto::SignPublicKey sender{};
  crypto::SignPublicKey recipient{};
  BundleId id{};
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

// How many items a bundle of size bytes holds; and the smallest bucket (a power of two from
// kMinBundleSize) that holds count items.
std::size_t items_capacity(std::size_t bundle_size);
std::size_t bucket_for(std::size_t count);
// The same among the paper buckets; 0 when count items do not fit the largest.
std::size_t paper_bucket_for(std::size_t count);

// Seals items into a bundle of exactly size bytes (kMinPaperBundleSize to kMaxBundleSize, a size
// that holds them: items_capacity).
util::Result<util::Bytes> seal(const Header& header, const std::vector<Item>& items, const crypto::SigningKey& sender,
                               const crypto::DhPublicKey& recipient_prekey, std::size_t size);

struct Opened {
  Header header;
  std::vector<Item> items;
};
// Opens a bundle meant for us (identity and prekey: our own keys). Refuses, changing nothing:
// not a bundle (size, magic), another version, not for this home (the header does not open
// under our key, or names another recipient), a bad signature, a damaged body.
util::Result<Opened> open(util::ByteView file, const crypto::SignPublicKey& identity,
                          const crypto::DhKeyPair& prekey);
// The same over several of our prekeys, in order (the current one, then those still in their
// grace after a rotation: a contact seals to the prekey it last heard of). The first whose
// header opens decides; "not for this home" when none does.
util::Result<Opened> open(util::ByteView file, const crypto::SignPublicKey& identity,
                          std::span<const crypto::DhKeyPair* const> prekeys);

// The content (item list) parser alone, strict; for open() and the fuzz target.
util::Result<std::vector<Item>> parse_content(util::ByteView content);

}  // namespace bc::channel::courier
