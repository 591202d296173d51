#include "channel/courier_bundle.h"

#include <algorithm>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "util/byte_io.h"
#include "wire/envelope.h"

namespace bc::channel::courier {
namespace {

static_assert(kItemSize == 1 + wire::kEnvelopeSize);

util::Error refuse(util::Errc code, std::string what) { return util::make_error(code, std::move(what)); }

constexpr std::string_view kNotOurs =
    "not for this home (the bundle is sealed to another party's key, or its first bytes are damaged)";
bool not_ours(const util::Error& e) { return e.code == util::Errc::refused && e.message == kNotOurs; }

util::ByteView magic_bytes() {
  return util::ByteView(reinterpret_cast<const std::uint8_t*>(kMagic.data()), kMagic.size());
}
util::ByteView label(std::string_view s) {
  return util::ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

// The header uses nonce 0, the body nonce 1: one key per bundle (a fresh ephemeral key), so the
// two nonces are never reused.
crypto::AeadNonce nonce_of(std::uint8_t n) {
  crypto::AeadNonce nonce{};
  nonce[crypto::kAeadNonceSize - 1] = n;
  return nonce;
}

crypto::SecureBuffer bundle_key(util::ByteView shared, const crypto::DhPublicKey& ephemeral,
                                const crypto::DhPublicKey& recipient_prekey) {
  util::Bytes salt;
  util::append(salt, ephemeral);
  util::append(salt, recipient_prekey);
  return crypto::hkdf_sha256(salt, shared, label(kKeyLabel), crypto::kAeadKeySize);
}

util::Bytes signed_bytes(const crypto::DhPublicKey& ephemeral, util::ByteView signed_header) {
  util::Bytes b(kSignatureLabel.begin(), kSignatureLabel.end());
  util::append(b, ephemeral);
  util::append(b, signed_header);
  return b;
}

}  // namespace

std::size_t items_capacity(std::size_t bundle_size) {
  if (bundle_size < kOverhead + 4) return 0;
  return std::min(kMaxItems, (bundle_size - kOverhead - 4) / kItemSize);
}

std::size_t bucket_for(std::size_t count) {
  std::size_t size = kMinBundleSize;
  while (items_capacity(size) < count && size < kMaxBundleSize) size *= 2;
  return size;
}

std::size_t paper_bucket_for(std::size_t count) {
  for (std::size_t size = kMinPaperBundleSize; size <= kMaxPaperBundleSize; size *= 2) {
    if (items_capacity(size) >= count) return size;
  }
  return 0;
}

util::Result<util::Bytes> seal(const Header& header, const std::vector<Item>& items, const crypto::SigningKey& sender,
                               const crypto::DhPublicKey& recipient_prekey, std::size_t size) {
  if (size < kMinPaperBundleSize || size > kMaxBundleSize) {
    return refuse(util::Errc::limit, "a bundle is 4 KiB to 256 MiB");
  }
  if (items.size() > items_capacity(size)) {
    return refuse(util::Errc::limit, std::to_string(items.size()) + " envelopes do not fit a bundle of " +
                                         std::to_string(size) + " bytes");
  }
  util::ByteWriter content;
  content.u32(static_cast<std::uint32_t>(items.size()));
  for (const Item& item : items) {
    if (item.envelope.size() != wire::kEnvelopeSize) return refuse(util::Errc::internal, "an item is not an envelope");
    content.u8(static_cast<std::uint8_t>(item.kind));
    content.bytes(item.envelope);
  }
  util::Bytes body = content.take();
  const crypto::Hash content_hash = crypto::blake2b({body});
  const std::uint64_t content_size = body.size();
  body.resize(size - kOverhead, 0);  // the padding, inside the encryption

  util::ByteWriter h;
  h.bytes(header.sender);
  h.bytes(header.recipient);
  h.bytes(header.id);
  h.u64(static_cast<std::uint64_t>(header.created_at_ms));
  h.u64(static_cast<std::uint64_t>(header.expires_at_ms));
  h.u64(content_size);
  h.bytes(content_hash);

  auto ephemeral = crypto::DhKeyPair::generate();
  auto shared = ephemeral.agree(recipient_prekey);
  if (!shared.ok()) return refuse(util::Errc::crypto, "the contact's X25519 key is unusable: " + shared.error().message);
  const crypto::Signature sig = sender.sign(signed_bytes(ephemeral.public_key(), h.buffer()));
  h.bytes(sig);
  auto key = bundle_key(shared->view(), ephemeral.public_key(), recipient_prekey);

  util::Bytes out;
  out.reserve(size);
  util::append(out, magic_bytes());
  out.push_back(kVersion);
  util::append(out, ephemeral.public_key());
  const util::Bytes ad(out.begin(), out.end());
  util::append(out, crypto::aead_seal(key.view(), nonce_of(0), h.buffer(), ad));
  util::append(out, crypto::aead_seal(key.view(), nonce_of(1), body, ad));
  if (out.size() != size) return refuse(util::Errc::internal, "bundle size mismatch");
  return out;
}

util::Result<std::vector<Item>> parse_content(util::ByteView content) {
  util::ByteReader r(content);
  const std::uint32_t count = r.u32();
  if (r.failed()) return refuse(util::Errc::truncated, "the bundle's content is truncated");
  if (count > kMaxItems) return refuse(util::Errc::limit, "the bundle claims too many envelopes");
  if (r.remaining() != std::size_t{count} * kItemSize) {
    return refuse(util::Errc::bad_format, "the bundle's content length does not match its envelope count");
  }
  std::vector<Item> items;
  items.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint8_t kind = r.u8();
    if (kind != static_cast<std::uint8_t>(ItemKind::hello) && kind != static_cast<std::uint8_t>(ItemKind::envelope)) {
      return refuse(util::Errc::bad_format, "unknown item kind " + std::to_string(kind) + " in the bundle");
    }
    // A HELLO comes first, at most once.
    if (kind == static_cast<std::uint8_t>(ItemKind::hello) && i != 0) {
      return refuse(util::Errc::bad_format, "a HELLO that is not the bundle's first item");
    }
    util::ByteView env = r.bytes(wire::kEnvelopeSize);
    items.push_back({static_cast<ItemKind>(kind), util::Bytes(env.begin(), env.end())});
  }
  if (!r.done()) return refuse(util::Errc::bad_format, "trailing bytes in the bundle's content");
  return items;
}

util::Result<Opened> open(util::ByteView file, const crypto::SignPublicKey& identity, const crypto::DhKeyPair& prekey) {
  if (file.size() < kMinPaperBundleSize || file.size() > kMaxBundleSize) {
    return refuse(util::Errc::bad_format, "not a courier bundle: " + std::to_string(file.size()) +
                                              " bytes (a bundle is 4 KiB to 256 MiB)");
  }
  if (!std::equal(magic_bytes().begin(), magic_bytes().end(), file.begin())) {
    return refuse(util::Errc::bad_format, "not a courier bundle (it does not start with the bundle magic)");
  }
  if (file[kMagic.size()] != kVersion) {
    return refuse(util::Errc::unsupported_version,
                  "courier bundle version " + std::to_string(file[kMagic.size()]) + " is not supported (this build reads 1)");
  }
  const auto ephemeral = util::to_array<32>(file.subspan(kMagic.size() + 1, 32));
  const util::ByteView ad = file.first(kPrefixSize);
  const util::ByteView header_ct = file.subspan(kPrefixSize, kHeaderSize + crypto::kAeadTagSize);
  const util::ByteView body_ct = file.subspan(kPrefixSize + kHeaderSize + crypto::kAeadTagSize);
  auto shared = prekey.agree(ephemeral);
  if (!shared.ok()) return refuse(util::Errc::refused, std::string(kNotOurs));
  auto key = bundle_key(shared->view(), ephemeral, prekey.public_key());
  auto header_pt = crypto::aead_open(key.view(), nonce_of(0), header_ct, ad);
  if (!header_pt.ok()) return refuse(util::Errc::refused, std::string(kNotOurs));
  util::ByteReader r(*header_pt);
  Opened out;
  out.header.sender = r.array<32>();
  out.header.recipient = r.array<32>();
  out.header.id = r.array<kBundleIdSize>();
  out.header.created_at_ms = static_cast<std::int64_t>(r.u64());
  out.header.expires_at_ms = static_cast<std::int64_t>(r.u64());
  const std::uint64_t content_size = r.u64();
  const auto content_hash = r.array<32>();
  const auto sig = r.array<64>();
  if (!r.done()) return refuse(util::Errc::bad_format, "the bundle's header is malformed");
  if (out.header.recipient != identity) {
    return refuse(util::Errc::refused, "not for this home (the bundle names another recipient)");
  }
  if (!crypto::verify(out.header.sender,
                      signed_bytes(ephemeral, util::ByteView(*header_pt).first(kSignedHeaderSize)), sig)) {
    return refuse(util::Errc::bad_signature, "the bundle's signature does not verify: it was altered or forged");
  }
  auto body = crypto::aead_open(key.view(), nonce_of(1), body_ct, ad);
  if (!body.ok()) {
    return refuse(util::Errc::crypto, "the bundle is damaged or altered: its body does not authenticate");
  }
  // The signed header's length and hash must describe the body: only then is it the sender's.
  if (content_size > body->size()) return refuse(util::Errc::bad_format, "the bundle's content length is out of range");
  const util::ByteView content = util::ByteView(*body).first(static_cast<std::size_t>(content_size));
  if (crypto::blake2b({content}) != content_hash) {
    return refuse(util::Errc::bad_signature, "the bundle's content does not match its signed hash");
  }
  const util::ByteView padding = util::ByteView(*body).subspan(static_cast<std::size_t>(content_size));
  if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
    return refuse(util::Errc::bad_format, "the bundle's padding is not zero");
  }
  auto items = parse_content(content);
  if (!items.ok()) return items.error();
  out.items = std::move(*items);
  return out;
}

util::Result<Opened> open(util::ByteView file, const crypto::SignPublicKey& identity,
                          std::span<const crypto::DhKeyPair* const> prekeys) {
  for (const crypto::DhKeyPair* prekey : prekeys) {
    auto opened = open(file, identity, *prekey);
    if (opened.ok() || !not_ours(opened.error())) return opened;
  }
  return refuse(util::Errc::refused, std::string(kNotOurs));
}

}  // namespace bc::channel::courier
