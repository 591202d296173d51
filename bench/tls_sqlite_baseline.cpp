// Latency baseline for scripts/bench: what one durable, encrypted message costs with plain
// tools and no protocol of our own. Per message, the sender commits the message to its own
// SQLite outbox (WAL, synchronous=FULL), writes it over an established TLS 1.3 connection on
// loopback TCP, the receiver commits it to its SQLite inbox (same settings) and answers with a
// 16-byte ack. We report
//   one_way:    sender's commit start -> receiver's inbox commit done (what "appears in the
//               inbox" means for backchannel);
//   round_trip: sender's commit start -> ack read by the sender (like a delivery receipt).
// Both ends run in this process on one steady clock, so no clock skew enters. The TLS
// handshake (Ed25519 self-signed certificate made at start, pinned by the client) and a few
// warm-up messages are not timed: backchannel's nodes are connected before its run starts, too.
//
//   tls_sqlite_baseline [--messages N] [--size BYTES] [--dir DIR]
// prints one JSON object on stdout: percentiles and every timed sample.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWarmup = 10;
constexpr std::size_t kAckSize = 16;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tls_sqlite_baseline: %s\n", what.c_str());
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

std::int64_t ns_since(Clock::time_point origin, Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - origin).count();
}

void put_u64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
}

std::uint64_t get_u64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

// A durable single-table store with the settings backchannel's store uses (store.cpp).
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) die("cannot open " + path);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, at_ns INTEGER NOT NULL, body BLOB NOT NULL)");
    if (sqlite3_prepare_v2(db_, "INSERT INTO messages (seq, at_ns, body) VALUES (?, ?, ?)", -1, &insert_,
                           nullptr) != SQLITE_OK) {
      die(std::string("prepare: ") + sqlite3_errmsg(db_));
    }
  }
  ~Db() {
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // One autocommit INSERT: one durable transaction (an fsync of the WAL) per message.
  void commit(std::uint64_t seq, std::int64_t at_ns, const std::uint8_t* body, std::size_t size) {
    sqlite3_reset(insert_);
    sqlite3_bind_int64(insert_, 1, static_cast<sqlite3_int64>(seq));
    sqlite3_bind_int64(insert_, 2, at_ns);
    sqlite3_bind_blob(insert_, 3, body, static_cast<int>(size), SQLITE_STATIC);
    if (sqlite3_step(insert_) != SQLITE_DONE) die(std::string("insert: ") + sqlite3_errmsg(db_));
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : "?";
      sqlite3_free(err);
      die(std::string(sql) + ": " + msg);
    }
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
};

struct Credentials {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

// Ed25519 like backchannel's net layer; made fresh per run so nothing is stored on disk.
Credentials make_self_signed() {
  Credentials c;
  c.key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (c.key == nullptr) die("keygen");
  c.cert = X509_new();
  X509_set_version(c.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(c.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(c.cert), 3600);
  X509_set_pubkey(c.cert, c.key);
  X509_NAME* name = X509_get_subject_name(c.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("baseline"), -1, -1, 0);
  X509_set_issuer_name(c.cert, name);
  if (X509_sign(c.cert, c.key, nullptr) == 0) die("sign certificate");  // Ed25519 takes no digest
  return c;
}

void read_exact(SSL* ssl, std::uint8_t* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    int r = SSL_read(ssl, buf + done, static_cast<int>(n - done));
    if (r <= 0) die("SSL_read");
    done += static_cast<std::size_t>(r);
  }
}

void write_all(SSL* ssl, const std::uint8_t* buf, std::size_t n) {
  if (SSL_write(ssl, buf, static_cast<int>(n)) != static_cast<int>(n)) die("SSL_write");
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int messages = 200;
  std::size_t size = 2048;  // backchannel's envelope size: what its channel carries per message
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    if (arg == "--messages") {
      messages = std::atoi(argv[i + 1]);
    } else if (arg == "--size") {
      size = static_cast<std::size_t>(std::atol(argv[i + 1]));
    } else if (arg == "--dir") {
      dir = argv[i + 1];
    } else {
      die("usage: tls_sqlite_baseline [--messages N] [--size BYTES] [--dir DIR]");
    }
  }
  if (messages < 1 || size < 16) die("need --messages >= 1 and --size >= 16");
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/tls-sqlite-baseline-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) die("mkdtemp");
    dir = tmpl;
  }

  Credentials cred = make_self_signed();
  SSL_CTX* server_ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  for (SSL_CTX* ctx : {server_ctx, client_ctx}) {
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  }
  if (SSL_CTX_use_certificate(server_ctx, cred.cert) != 1 || SSL_CTX_use_PrivateKey(server_ctx, cred.key) != 1) {
    die("server credentials");
  }
  // The client trusts exactly this certificate: pinned, as backchannel pins its peers' keys.
  X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx), cred.cert);
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, nullptr);

  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    die("listen on loopback");
  }

  const int total = messages + kWarmup;
  const Clock::time_point origin = Clock::now();

  // Receiver: read a message, commit it to the inbox, ack with the commit-done time.
  std::thread receiver([&] {
    Db inbox(dir + "/receiver.db");
    int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) die("accept");
    set_nodelay(fd);
    SSL* ssl = SSL_new(server_ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) die("SSL_accept");
    std::vector<std::uint8_t> msg(size);
    std::uint8_t ack[kAckSize];
    for (int i = 0; i < total; ++i) {
      read_exact(ssl, msg.data(), msg.size());
      std::uint64_t seq = get_u64(msg.data());
      inbox.commit(seq, ns_since(origin, Clock::now()), msg.data(), msg.size());
      put_u64(ack, seq);
      put_u64(ack + 8, static_cast<std::uint64_t>(ns_since(origin, Clock::now())));
      write_all(ssl, ack, sizeof ack);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
  });

  Db outbox(dir + "/sender.db");
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
  set_nodelay(fd);
  SSL* ssl = SSL_new(client_ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) die("SSL_connect");
  if (std::string_view(SSL_get_version(ssl)) != "TLSv1.3") die("not TLS 1.3");

  std::vector<std::uint8_t> msg(size, 0x42);
  std::uint8_t ack[kAckSize];
  std::vector<std::int64_t> one_way;
  std::vector<std::int64_t> round_trip;
  for (int i = 0; i < total; ++i) {
    const std::int64_t t0 = ns_since(origin, Clock::now());
    put_u64(msg.data(), static_cast<std::uint64_t>(i + 1));
    outbox.commit(static_cast<std::uint64_t>(i + 1), t0, msg.data(), msg.size());
    write_all(ssl, msg.data(), msg.size());
    read_exact(ssl, ack, sizeof ack);
    const std::int64_t t1 = ns_since(origin, Clock::now());
    if (get_u64(ack) != static_cast<std::uint64_t>(i + 1)) die("ack out of order");
    if (i < kWarmup) continue;
    one_way.push_back(static_cast<std::int64_t>(get_u64(ack + 8)) - t0);
    round_trip.push_back(t1 - t0);
  }
  receiver.join();
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
  close(listener);
  SSL_CTX_free(server_ctx);
  SSL_CTX_free(client_ctx);
  X509_free(cred.cert);
  EVP_PKEY_free(cred.key);
  if (own_dir) std::filesystem::remove_all(dir);

  // The samples too, so that a driver can pool several short runs interleaved with its own.
  auto samples = [](const std::vector<std::int64_t>& v) {
    std::string out;
    for (std::int64_t ns : v) out += (out.empty() ? "" : ", ") + std::to_string(static_cast<double>(ns) / 1e3);
    return out;
  };
  std::printf(
      "{\"messages\": %d, \"size\": %zu, \"one_way_us\": {\"p50\": %.1f, \"p99\": %.1f}, "
      "\"round_trip_us\": {\"p50\": %.1f, \"p99\": %.1f}, \"one_way_samples_us\": [%s], "
      "\"round_trip_samples_us\": [%s]}\n",
      messages, size, static_cast<double>(percentile(one_way, 0.50)) / 1e3,
      static_cast<double>(percentile(one_way, 0.99)) / 1e3, static_cast<double>(percentile(round_trip, 0.50)) / 1e3,
      static_cast<double>(percentile(round_trip, 0.99)) / 1e3, samples(one_way).c_str(), samples(round_trip).c_str());
  return 0;
}
