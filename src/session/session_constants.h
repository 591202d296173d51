// Spec constants of the session start and the Double Ratchet (docs/protocol.md "Session start",
// "Double Ratchet with header encryption", "Envelope"). Changing any of them changes the wire
// format or the derived keys and needs a new protocol version. Implementation limits that may
// change freely live in session/session_limits.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/mlkem_params.h"
#include "wire/envelope.h"

namespace bc::session {

inline constexpr std::size_t kKeySize = 32;         // RK, CK, MK, HK and SK sizes
inline constexpr std::size_t kAssociatedDataSize = 64;  // IK_invitee || IK_inviter

// HKDF info strings (the "application-specific byte sequences" of the Double Ratchet spec §5.2).
inline constexpr std::string_view kInfoX3dh = "backchannel/x3dh/v1";
inline constexpr std::string_view kInfoHello = "backchannel/hello/v1";
// Key confirmation of HELLO v2: KC = HKDF(salt = none, ikm = SK, info = this || T).
inline constexpr std::string_view kInfoHelloConfirm = "backchannel/hello/confirm/v1";
// Hybrid start (HELLO version 3): SK || HKa || NHKb = HKDF(salt = S, ikm = 0xFF*32 || DH1 || DH2
// || SS, info = this || T_pq), and the HELLO key from DH2 || SS (docs/protocol.md "Hybrid
// session start").
inline constexpr std::string_view kInfoPqxdh = "backchannel/pqxdh/v1";
inline constexpr std::string_view kInfoHelloPq = "backchannel/hello/pq/v1";
inline constexpr std::string_view kInfoRootKdf = "backchannel/ratchet/root/v1";
// PQ ratchet step: a root step that mixes a KEM secret SS is KDF_RK_HE with ikm = DH || SS and
// this info (docs/protocol.md "PQ ratchet step").
inline constexpr std::string_view kInfoRootKdfPq = "backchannel/ratchet/root/pq/v1";
inline constexpr std::string_view kInfoMessageKey = "backchannel/ratchet/message/v1";
// Body keys of sessions started by HELLO version 2: info = this || header nonce (24).
inline constexpr std::string_view kInfoMessageKeyMixed = "backchannel/ratchet/message/v2";

// KDF_CK inputs as recommended by the spec (§5.2): HMAC(ck, 0x01) = MK, HMAC(ck, 0x02) = CK'.
inline constexpr std::uint8_t kChainMessageConstant = 0x01;
inline constexpr std::uint8_t kChainNextConstant = 0x02;

// Header plaintext: DHs public key (32) || PN (u32 BE) || N (u32 BE).
inline constexpr std::size_t kHeaderPlainSize = 40;
static_assert(kHeaderPlainSize == wire::kHeaderPlainSize);
// Sessions with the PQ ratchet step: PN's top byte is the sender's epoch (mod 256) at the start
// of the chain, its low 24 bits the count; a chain of such a session ends at kPqMaxChain.
inline constexpr unsigned kPqEpochShift = 24;
inline constexpr std::uint32_t kPqPnMask = (std::uint32_t{1} << kPqEpochShift) - 1;
inline constexpr std::uint32_t kPqMaxChain = kPqPnMask;

// Envelope layout: header nonce || encrypted header || body ciphertext || body tag.
inline constexpr std::size_t kHeaderNonceOffset = 0;
inline constexpr std::size_t kEncryptedHeaderOffset = wire::kHeaderNonceSize;
inline constexpr std::size_t kEncryptedHeaderSize = wire::kHeaderPlainSize + wire::kAeadTag;
inline constexpr std::size_t kBodyOffset = wire::kEncryptedHeaderSize;
inline constexpr std::size_t kBodySize = wire::kEnvelopePayloadSize + wire::kAeadTag;
static_assert(kBodyOffset + kBodySize == wire::kEnvelopeSize);

// HELLO envelope: EK (cleartext X25519 public key) || ciphertext of kHelloPlainSize || tag.
inline constexpr std::size_t kHelloEphemeralSize = 32;
inline constexpr std::size_t kHelloPlainSize =
    wire::kEnvelopeSize - kHelloEphemeralSize - wire::kAeadTag;
// 2: the body carries a key-confirmation tag after the first ratchet key (docs/protocol.md
// "HELLO"). A HELLO of version 1 (no tag) is refused.
inline constexpr std::uint8_t kHelloVersion = 2;
inline constexpr std::size_t kHelloConfirmSize = 32;

// Hybrid HELLO (version 3, the answer to an invitation of version 3): EK || ML-KEM-768
// ciphertext || ciphertext of kHybridHelloPlainSize || tag. Still one envelope.
inline constexpr std::uint8_t kHybridHelloVersion = 3;
inline constexpr std::size_t kHelloKemCiphertextSize = crypto::mlkem::kCiphertextSize;  // 1088
inline constexpr std::size_t kHybridHelloSealedOffset = kHelloEphemeralSize + kHelloKemCiphertextSize;
inline constexpr std::size_t kHybridHelloPlainSize =
    wire::kEnvelopeSize - kHybridHelloSealedOffset - wire::kAeadTag;  // 912
// version || IK || SPK || sig || ratchet key || confirmation || H(ek) || reachability length
inline constexpr std::size_t kHybridHelloFixedSize = 1 + 32 + 32 + 64 + 32 + kHelloConfirmSize + 32 + 2;
// The longest reachability a hybrid HELLO can carry (685 bytes; a classical one: 1024, limits).
inline constexpr std::size_t kMaxHybridReachabilitySize = kHybridHelloPlainSize - kHybridHelloFixedSize;
static_assert(kMaxHybridReachabilitySize == 685);

// Serialised session state.
// Version 1: a session without the PQ ratchet step. Version 2 (sessions with it) appends the
// step's section; sessions without it are still written as version 1.
inline constexpr std::uint8_t kStateVersion = 1;
inline constexpr std::uint8_t kStateVersionPq = 2;
inline constexpr std::string_view kStateMagic = "BCSS";

}  // namespace bc::session
