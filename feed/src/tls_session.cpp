#include "kinetic/feed/tls_session.hpp"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace kinetic::feed {

namespace {

constexpr std::size_t kMaxRecordPlaintext = 16384;
// Upper bound of what one AEAD record adds to its plaintext (header, explicit nonce or
// content type, tag), with room to spare; used to reserve TCP send room before encrypting.
constexpr std::size_t kRecordOverhead = 64;

int openssl_version(TlsVersion version) noexcept {
  return version == TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// Drains OpenSSL's error queue of this thread into `out` ("; "-separated), never overflowing.
void collect_errors(char* out, std::size_t capacity, const char* prefix) noexcept {
  std::size_t used = 0;
  const auto append = [&](const char* text) {
    const std::size_t n = std::min(std::strlen(text), capacity - 1 - used);
    std::memcpy(out + used, text, n);
    used += n;
  };
  append(prefix);
  unsigned long code = 0;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    append(first ? ": " : "; ");
    first = false;
    char line[256];
    ERR_error_string_n(code, line, sizeof line);
    append(line);
  }
  out[used] = '\0';
}

std::string take_error_text(const char* prefix) {
  char text[512];
  collect_errors(text, sizeof text, prefix);
  return text;
}

Result<TlsContext, NetError> config_failure(SSL_CTX* context, std::string* error_text,
                                            const char* what) {
  if (error_text != nullptr) {
    *error_text = take_error_text(what);
  } else {
    ERR_clear_error();
  }
  SSL_CTX_free(context);
  return NetError::tls_config_failed;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TlsContext.

TlsContext::~TlsContext() {
  SSL_CTX_free(context_);
}

TlsContext::TlsContext(TlsContext&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)), server_(other.server_) {}

TlsContext& TlsContext::operator=(TlsContext&& other) noexcept {
  if (this != &other) {
    SSL_CTX_free(context_);
    context_ = std::exchange(other.context_, nullptr);
    server_ = other.server_;
  }
  return *this;
}

Result<TlsContext, NetError> TlsContext::client(const TlsClientOptions& options,
                                                std::string* error_text) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) {
    return config_failure(context, error_text, "SSL_CTX_new");
  }
  if (SSL_CTX_set_min_proto_version(context, openssl_version(options.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(context, openssl_version(options.max_version)) != 1) {
    return config_failure(context, error_text, "protocol version");
  }
  if (options.verify_peer) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    const int loaded = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(context)
                                               : SSL_CTX_load_verify_locations(
                                                     context, options.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      return config_failure(context, error_text, "loading the trust store");
    }
  } else {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  }
  // Partial writes let one write() encrypt one record at a time; no SSL_MODE_RELEASE_BUFFERS,
  // which would free and re-allocate the record buffers on every idle/busy transition.
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // A feed connection is long-lived; resumption is not worth a cache.
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  TlsContext result;
  result.context_ = context;
  result.server_ = false;
  return result;
}

Result<TlsContext, NetError> TlsContext::server(const TlsServerOptions& options,
                                                std::string* error_text) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) {
    return config_failure(context, error_text, "SSL_CTX_new");
  }
  if (SSL_CTX_set_min_proto_version(context, openssl_version(options.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(context, openssl_version(options.max_version)) != 1) {
    return config_failure(context, error_text, "protocol version");
  }
  if (SSL_CTX_use_certificate_chain_file(context, options.certificate_file.c_str()) != 1) {
    return config_failure(context, error_text, "loading the certificate");
  }
  if (SSL_CTX_use_PrivateKey_file(context, options.private_key_file.c_str(), SSL_FILETYPE_PEM) !=
          1 ||
      SSL_CTX_check_private_key(context) != 1) {
    return config_failure(context, error_text, "loading the private key");
  }
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(context, 0);  // no TLS 1.3 session tickets: nothing to resume
  TlsContext result;
  result.context_ = context;
  result.server_ = true;
  return result;
}

// ---------------------------------------------------------------------------------------------
// TlsSession.

TlsSession::~TlsSession() {
  SSL_free(ssl_);  // frees the SSL's end of the BIO pair
  BIO_free(network_bio_);
}

NetError TlsSession::fail(NetError error) noexcept {
  state_ = TlsState::failed;
  const char* prefix = to_string(error);
  if (error == NetError::tls_verify_failed && ssl_ != nullptr) {
    prefix = X509_verify_cert_error_string(SSL_get_verify_result(ssl_));
  }
  collect_errors(error_text_buffer_, sizeof error_text_buffer_, prefix);
  error_text_ = error_text_buffer_;
  return error;
}

NetError TlsSession::start(const TlsContext& context, std::string_view peer_name) {
  SSL_free(ssl_);
  BIO_free(network_bio_);
  ssl_ = nullptr;
  network_bio_ = nullptr;
  state_ = TlsState::idle;
  error_text_ = {};
  ERR_clear_error();
  if (!context.valid()) {
    return fail(NetError::tls_config_failed);
  }
  ssl_ = SSL_new(context.native_handle());
  BIO* ssl_side = nullptr;
  if (ssl_ == nullptr ||
      BIO_new_bio_pair(&ssl_side, kBioBufferSize, &network_bio_, kBioBufferSize) != 1) {
    return fail(NetError::tls_config_failed);
  }
  SSL_set_bio(ssl_, ssl_side, ssl_side);
  if (context.is_server()) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
    const std::string name(peer_name);
    in6_addr scratch{};
    const bool ip_literal = ::inet_pton(AF_INET, name.c_str(), &scratch) == 1 ||
                            ::inet_pton(AF_INET6, name.c_str(), &scratch) == 1;
    if (ip_literal) {
      // No SNI for addresses (RFC 6066); verify the certificate's IP SAN instead.
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str()) != 1) {
        return fail(NetError::tls_config_failed);
      }
    } else if (!name.empty()) {
      if (SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                   const_cast<char*>(name.c_str())) != 1 ||
          SSL_set1_host(ssl_, name.c_str()) != 1) {
        return fail(NetError::tls_config_failed);
      }
    }
  }
  state_ = TlsState::handshaking;
  return NetError::ok;
}

NetError TlsSession::handshake() noexcept {
  if (state_ == TlsState::established) {
    return NetError::ok;
  }
  if (state_ != TlsState::handshaking) {
    return state_ == TlsState::failed ? NetError::tls_handshake_failed : NetError::not_connected;
  }
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = TlsState::established;
    return NetError::ok;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    return NetError::would_block;
  }
  if (SSL_get_verify_result(ssl_) != X509_V_OK) {
    return fail(NetError::tls_verify_failed);
  }
  return fail(NetError::tls_handshake_failed);
}

std::size_t TlsSession::feed_ciphertext(std::span<const std::byte> ciphertext) noexcept {
  if (network_bio_ == nullptr || ciphertext.empty()) {
    return 0;
  }
  const int n = BIO_write(network_bio_, ciphertext.data(),
                          static_cast<int>(std::min<std::size_t>(ciphertext.size(), 1 << 30)));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::span<std::byte> TlsSession::ciphertext_in_space() noexcept {
  if (network_bio_ == nullptr) {
    return {};
  }
  char* space = nullptr;
  const ossl_ssize_t n = BIO_nwrite0(network_bio_, &space);
  if (n <= 0 || space == nullptr) {
    return {};
  }
  return {reinterpret_cast<std::byte*>(space), static_cast<std::size_t>(n)};
}

void TlsSession::commit_ciphertext_in(std::size_t bytes) noexcept {
  if (network_bio_ != nullptr && bytes > 0) {
    char* space = nullptr;
    static_cast<void>(BIO_nwrite(network_bio_, &space, static_cast<int>(bytes)));
  }
}

std::size_t TlsSession::pending_ciphertext() const noexcept {
  return network_bio_ == nullptr ? 0 : BIO_ctrl_pending(network_bio_);
}

std::size_t TlsSession::take_ciphertext(std::span<std::byte> out) noexcept {
  if (network_bio_ == nullptr || out.empty()) {
    return 0;
  }
  const int n = BIO_read(network_bio_, out.data(),
                         static_cast<int>(std::min<std::size_t>(out.size(), 1 << 30)));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::span<const std::byte> TlsSession::ciphertext_out() noexcept {
  if (network_bio_ == nullptr) {
    return {};
  }
  char* data = nullptr;
  const ossl_ssize_t n = BIO_nread0(network_bio_, &data);
  if (n <= 0 || data == nullptr) {
    return {};
  }
  return {reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(n)};
}

void TlsSession::consume_ciphertext_out(std::size_t bytes) noexcept {
  if (network_bio_ != nullptr && bytes > 0) {
    char* data = nullptr;
    static_cast<void>(BIO_nread(network_bio_, &data, static_cast<int>(bytes)));
  }
}

Result<std::size_t, NetError> TlsSession::read(std::span<std::byte> out) noexcept {
  if (state_ == TlsState::closed) {
    return NetError::closed;
  }
  if (state_ != TlsState::established) {
    return state_ == TlsState::failed ? NetError::tls_failed : NetError::not_connected;
  }
  if (out.empty()) {
    return std::size_t{0};
  }
  std::size_t n = 0;
  const int rc = SSL_read_ex(ssl_, out.data(), out.size(), &n);
  if (rc == 1) {
    return n;
  }
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return NetError::would_block;
    case SSL_ERROR_ZERO_RETURN:
      state_ = TlsState::closed;
      return NetError::closed;
    default:
      return fail(NetError::tls_failed);
  }
}

Result<std::size_t, NetError> TlsSession::write(std::span<const std::byte> plaintext) noexcept {
  if (state_ != TlsState::established) {
    return state_ == TlsState::failed ? NetError::tls_failed : NetError::not_connected;
  }
  if (plaintext.empty()) {
    return std::size_t{0};
  }
  std::size_t n = 0;
  const int rc =
      SSL_write_ex(ssl_, plaintext.data(), std::min(plaintext.size(), kMaxRecordPlaintext), &n);
  if (rc == 1) {
    return n;
  }
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return NetError::would_block;
    default:
      return fail(NetError::tls_failed);
  }
}

void TlsSession::close_notify() noexcept {
  if (ssl_ != nullptr && (state_ == TlsState::established || state_ == TlsState::closed)) {
    static_cast<void>(SSL_shutdown(ssl_));
    ERR_clear_error();
    state_ = TlsState::closed;
  }
}

bool TlsSession::has_decrypted_input() const noexcept {
  return ssl_ != nullptr && SSL_pending(ssl_) > 0;
}

bool TlsSession::has_buffered_input() const noexcept {
  if (ssl_ == nullptr) {
    return false;
  }
  return SSL_pending(ssl_) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl_)) > 0;
}

const char* TlsSession::protocol_version() const noexcept {
  return (ssl_ != nullptr && state_ == TlsState::established) ? SSL_get_version(ssl_) : "";
}

// ---------------------------------------------------------------------------------------------
// Stream.

Stream::~Stream() {
  close();
}

NetError Stream::connect(const Url& url, const StreamOptions& options) {
  auto endpoint = resolve(url.host, url.port);
  if (!endpoint) {
    return endpoint.error();
  }
  return connect(endpoint.value(), url.host, url.tls, options);
}

NetError Stream::connect(const Endpoint& endpoint, std::string_view host, bool tls,
                         const StreamOptions& options) {
  close();
  tls_enabled_ = tls;
  tls_input_exhausted_ = false;
  send_buffer_size_ = options.tcp.send_buffer_size;
  if (tls && (options.tls == nullptr || !options.tls->valid() || options.tls->is_server())) {
    return NetError::tls_config_failed;
  }
  if (const NetError error = tcp_.connect(endpoint, options.tcp); error != NetError::ok) {
    tcp_.close();
    return error;
  }
  send_buffer_size_ = options.tcp.send_buffer_size;
  if (!tls) {
    return NetError::ok;
  }
  if (const NetError error = tls_.start(*options.tls, host); error != NetError::ok) {
    tcp_.close();
    return error;
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(options.handshake_timeout_ms);
  for (;;) {
    const NetError step = tls_.handshake();
    // Send what the handshake produced, an alert included when it failed.
    const NetError sent = pump_ciphertext_out();
    if (step == NetError::ok) {
      return NetError::ok;
    }
    if (step != NetError::would_block) {
      static_cast<void>(tcp_.flush());
      tcp_.close();
      return step;
    }
    if (sent != NetError::ok && sent != NetError::would_block) {
      tcp_.close();
      return sent;
    }
    const std::span<std::byte> space = tls_.ciphertext_in_space();
    auto received = tcp_.receive_into(space);
    if (received) {
      tls_.commit_ciphertext_in(received.value());
      continue;
    }
    if (received.error() != NetError::would_block) {
      tcp_.close();
      return received.error();
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      tcp_.close();
      return NetError::handshake_timeout;
    }
    const NetError waited = tcp_.wait(static_cast<int>(left.count()));
    if (waited != NetError::ok && waited != NetError::would_block) {
      tcp_.close();
      return waited;
    }
  }
}

NetError Stream::pump_ciphertext_out() noexcept {
  for (;;) {
    const std::span<const std::byte> chunk = tls_.ciphertext_out();
    if (chunk.empty()) {
      return NetError::ok;
    }
    const std::size_t n = std::min(chunk.size(), tcp_.send_capacity());
    if (n == 0) {
      return NetError::would_block;
    }
    if (const NetError error = tcp_.send(chunk.first(n)); error != NetError::ok) {
      return error;
    }
    tls_.consume_ciphertext_out(n);
  }
}

Result<std::size_t, NetError> Stream::receive_into(std::span<std::byte> out) noexcept {
  if (!tls_enabled_) {
    return tcp_.receive_into(out);
  }
  for (;;) {
    auto plaintext = tls_.read(out);
    if (plaintext || plaintext.error() != NetError::would_block) {
      if (tls_.pending_ciphertext() > 0) {
        static_cast<void>(pump_ciphertext_out());  // e.g. a KeyUpdate answer
      }
      return plaintext;
    }
    const std::span<std::byte> space = tls_.ciphertext_in_space();
    if (space.empty()) {
      return NetError::tls_failed;  // cannot happen with kBioBufferSize > one record
    }
    auto ciphertext = tcp_.receive_into(space);
    if (!ciphertext) {
      if (tls_.pending_ciphertext() > 0) {
        static_cast<void>(pump_ciphertext_out());
      }
      // Whatever ciphertext is left inside is an incomplete record: wait() must not count it.
      tls_input_exhausted_ = true;
      return ciphertext.error();  // would_block, closed (without close_notify), errors
    }
    tls_.commit_ciphertext_in(ciphertext.value());
    tls_input_exhausted_ = false;
  }
}

NetError Stream::send(std::span<const std::byte> plaintext) noexcept {
  if (!tls_enabled_) {
    return tcp_.send(plaintext);
  }
  if (tls_.state() != TlsState::established) {
    return tls_.state() == TlsState::failed ? NetError::tls_failed : NetError::not_connected;
  }
  const std::size_t records = plaintext.size() / kMaxRecordPlaintext + 1;
  const std::size_t needed = plaintext.size() + records * kRecordOverhead;
  if (needed > send_buffer_size_) {
    return NetError::message_too_large;
  }
  if (const NetError error = pump_ciphertext_out();
      error != NetError::ok && error != NetError::would_block) {
    return error;
  }
  if (tls_.pending_ciphertext() > 0 || tcp_.send_capacity() < needed) {
    const NetError error = tcp_.flush();
    return error == NetError::ok ? NetError::would_block : error;
  }
  // Room for every record is reserved in the TCP buffer, so each record's ciphertext moves
  // straight on and the BIO never fills.
  while (!plaintext.empty()) {
    auto written = tls_.write(plaintext);
    if (!written) {
      return written.error();
    }
    plaintext = plaintext.subspan(written.value());
    if (const NetError error = pump_ciphertext_out(); error != NetError::ok) {
      return error;
    }
  }
  return NetError::ok;
}

NetError Stream::flush() noexcept {
  if (tls_enabled_) {
    const NetError error = pump_ciphertext_out();
    if (error != NetError::ok && error != NetError::would_block) {
      return error;
    }
  }
  return tcp_.flush();
}

std::size_t Stream::unsent_bytes() const noexcept {
  return tcp_.unsent_bytes() + (tls_enabled_ ? tls_.pending_ciphertext() : 0);
}

NetError Stream::wait(int timeout_ms) noexcept {
  if (tls_enabled_) {
    // Plaintext ready, or complete records not yet decrypted: no need to wait for the socket.
    if (tls_.has_decrypted_input() || (!tls_input_exhausted_ && tls_.has_buffered_input())) {
      return NetError::ok;
    }
    if (tls_.pending_ciphertext() > 0) {
      static_cast<void>(pump_ciphertext_out());
    }
  }
  return tcp_.wait(timeout_ms);
}

void Stream::close() noexcept {
  if (!tcp_.is_open()) {
    return;
  }
  if (tls_enabled_ && tls_.state() == TlsState::established) {
    tls_.close_notify();
    static_cast<void>(pump_ciphertext_out());
  }
  // Give queued bytes (close_notify, a last message) a moment to reach the kernel.
  for (int round = 0; round < 10 && tcp_.unsent_bytes() > 0; ++round) {
    if (tcp_.wait(10) != NetError::ok && tcp_.flush() != NetError::ok) {
      break;
    }
  }
  tcp_.close();
}

std::string_view Stream::error_text() const noexcept {
  return tls_.state() == TlsState::failed ? tls_.error_text() : std::string_view{};
}

}  // namespace kinetic::feed
