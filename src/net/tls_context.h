// Internal to net/. TLS 1.3 contexts whose only trust anchor is a pinned Ed25519 key.
//
// How pinning works: the certificate each endpoint presents is self-signed and made at startup
// from its identity key (the TLS private key IS the identity key, from its 32-byte seed), so a
// certificate's public key is the peer's identity key. Both roles demand a certificate and
// replace OpenSSL's chain verification with check_peer(): it accepts exactly one Ed25519 leaf
// whose key the PeerCheck accepts; names, dates, issuers and CAs play no part. The TLS 1.3
// CertificateVerify message then proves the peer holds the private key. Resumption is off, so
// no handshake ever skips the check.
#pragma once

#include <openssl/types.h>

#include <functional>
#include <memory>
#include <optional>

#include "crypto/sign.h"
#include "net/types.h"
#include "util/result.h"

namespace bc::net::detail {

using PeerCheck = std::function<bool(const PeerKey&)>;

// The endpoint's own certificate and TLS key, made once per Service.
class TlsIdentity {
 public:
  static util::Result<TlsIdentity> create(const crypto::SigningKey& identity);

  X509* certificate() const { return certificate_.get(); }
  EVP_PKEY* key() const { return key_.get(); }

 private:
  struct FreeKey {
    void operator()(EVP_PKEY* key) const;
  };
  struct FreeCertificate {
    void operator()(X509* certificate) const;
  };
  std::unique_ptr<EVP_PKEY, FreeKey> key_;
  std::unique_ptr<X509, FreeCertificate> certificate_;
};

enum class TlsRole { client, server };

class TlsContext {
 public:
  // check: for a client, "is this the server I dialled"; for a server, "is this client known".
  static util::Result<std::shared_ptr<TlsContext>> create(const TlsIdentity& identity, TlsRole role,
                                                          PeerCheck check);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A fresh connection object; the caller owns it (Asio's stream takes it over). The context
  // must outlive it, because OpenSSL calls back into check_.
  SSL* new_ssl() const;

 private:
  TlsContext(SSL_CTX* ctx, PeerCheck check) : ctx_(ctx), check_(std::move(check)) {}
  static int verify_callback(X509_STORE_CTX* store, void* arg);

  SSL_CTX* ctx_;
  PeerCheck check_;
};

// The Ed25519 key of the certificate the peer presented (after a successful handshake).
std::optional<PeerKey> peer_key_of(const SSL* ssl);

// Tells the server which name we dialled (SNI), so that a TLS-passthrough proxy can route on
// it. Skipped for IP literals, which SNI does not allow.
void set_server_name(SSL* ssl, const std::string& host);

}  // namespace bc::net::detail
