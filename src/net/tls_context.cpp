#include "net/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <string>

#include "crypto/random.h"
#include "net/fingerprint.h"

namespace bc::net::detail {
namespace {

constexpr long kCertificateLifetimeSeconds = 20L * 365 * 24 * 3600;
constexpr long kClockSkewSeconds = 24L * 3600;

std::string openssl_error(const char* what) {
  std::string message = what;
  char buffer[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buffer, sizeof buffer);
    message += ": ";
    message += buffer;
  }
  return message;
}

util::Error tls_error(const char* what) {
  return util::make_error(util::Errc::crypto, openssl_error(what));
}

std::optional<PeerKey> ed25519_key_of(X509* certificate) {
  if (certificate == nullptr) return std::nullopt;
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) return std::nullopt;
  PeerKey out{};
  std::size_t length = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &length) != 1 || length != out.size()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

void TlsIdentity::FreeKey::operator()(EVP_PKEY* key) const {
  EVP_PKEY_free(key);
}
void TlsIdentity::FreeCertificate::operator()(X509* certificate) const {
  X509_free(certificate);
}

util::Result<TlsIdentity> TlsIdentity::create(const crypto::SigningKey& identity) {
  TlsIdentity out;
  // libsodium's secret key is seed || public key; the seed is what RFC 8032 calls the key.
  const util::ByteView seed = identity.secret().view().first(32);
  out.key_.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!out.key_) return tls_error("EVP_PKEY_new_raw_private_key");

  out.certificate_.reset(X509_new());
  X509* cert = out.certificate_.get();
  if (cert == nullptr) return tls_error("X509_new");
  // A random serial keeps two certificates of one key (before and after a restart) distinct.
  const util::Bytes serial = crypto::random_bytes(16);
  BIGNUM* serial_bn = BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr);
  const bool ok =
      serial_bn != nullptr && X509_set_version(cert, X509_VERSION_3) == 1 &&
      BN_to_ASN1_INTEGER(serial_bn, X509_get_serialNumber(cert)) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert), -kClockSkewSeconds) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert), kCertificateLifetimeSeconds) != nullptr &&
      X509_set_pubkey(cert, out.key_.get()) == 1;
  BN_free(serial_bn);
  if (!ok) return tls_error("building the certificate");
  // The name is informative only: peers check the key, never the name.
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string common_name = "backchannel " + short_fingerprint(identity.public_key());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_set_issuer_name(cert, name) != 1) {
    return tls_error("naming the certificate");
  }
  // Ed25519 signs the whole message itself: no separate digest.
  if (X509_sign(cert, out.key_.get(), nullptr) <= 0) return tls_error("X509_sign");

  // The certificate must carry exactly the identity key, or pins would never match.
  auto key = ed25519_key_of(cert);
  if (!key || *key != identity.public_key()) {
    return util::make_error(util::Errc::internal, "TLS key does not match the identity key");
  }
  return out;
}

util::Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsIdentity& identity,
                                                             TlsRole role, PeerCheck check) {
  SSL_CTX* ctx = SSL_CTX_new(role == TlsRole::server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) return tls_error("SSL_CTX_new");
  std::shared_ptr<TlsContext> out(new TlsContext(ctx, std::move(check)));

  // TLS 1.3 only: one handshake to reason about, forward secrecy and encrypted certificates.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
    return tls_error("setting TLS 1.3");
  }
  if (SSL_CTX_use_certificate(ctx, identity.certificate()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, identity.key()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return tls_error("installing the certificate");
  }
  // A resumed session would skip the certificate, and with it the pin check.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (role == TlsRole::server && SSL_CTX_set_num_tickets(ctx, 0) != 1) {
    return tls_error("disabling session tickets");
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_cert_verify_callback(ctx, &TlsContext::verify_callback, out.get());
  return out;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

SSL* TlsContext::new_ssl() const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) throw std::runtime_error(openssl_error("SSL_new"));
  return ssl;
}

// Runs inside the handshake, in place of chain verification. OpenSSL is C: nothing may throw
// out of here, so a throwing PeerCheck is logged and counts as a refusal.
int TlsContext::verify_callback(X509_STORE_CTX* store, void* arg) {
  const auto* self = static_cast<const TlsContext*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  const auto key = ed25519_key_of(leaf);
  if (!key) {
    spdlog::warn("net: peer certificate refused: not an Ed25519 key");
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  bool accepted = false;
  try {
    accepted = self->check_ && self->check_(*key);
  } catch (const std::exception& e) {
    spdlog::error("net: peer check threw, refusing {}: {}", short_fingerprint(*key), e.what());
  } catch (...) {
    spdlog::error("net: peer check threw, refusing {}", short_fingerprint(*key));
  }
  if (!accepted) {
    spdlog::warn("net: peer key {} refused", short_fingerprint(*key));
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

std::optional<PeerKey> peer_key_of(const SSL* ssl) {
  return ed25519_key_of(SSL_get0_peer_certificate(ssl));
}

void set_server_name(SSL* ssl, const std::string& host) {
  unsigned char address[16];
  if (host.empty() || inet_pton(AF_INET, host.c_str(), address) == 1 ||
      inet_pton(AF_INET6, host.c_str(), address) == 1) {
    return;
  }
  // SSL_set_tlsext_host_name() is this call behind a C cast.
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
           const_cast<char*>(host.c_str()));
}

}  // namespace bc::net::detail
