#include "curve_cert.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>  // version macros only: libflux does not link libzmq

#include <cerrno>
#include <cstring>
#include <memory>

#include "printable.hpp"
#include "result.hpp"

namespace flux {

namespace {

// Z85's alphabet beyond letters and digits (ZeroMQ RFC 32).
constexpr std::string_view kZ85Extra = ".-:+=^!/*?&<>()[]{}@%$#";
// What flux-core's reader accepts in a value (Z85 plus space and tab).
constexpr std::string_view kValueExtra = ".-:+=^!/*?&<>()[]{}@%$# \t";
// Largest file load() reads: a certificate is a few hundred bytes.
constexpr size_t kMaxFileSize = 64 * 1024;

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool valid_meta_key(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-' && c != '.') return false;
  return true;
}

bool valid_meta_value(std::string_view s) {
  for (char c : s)
    if (!is_alnum(c) && kValueExtra.find(c) == std::string_view::npos) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// Z85 (ZeroMQ RFC 32): 4 bytes, big-endian, as 5 base-85 digits.
constexpr std::string_view kZ85 =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string z85_encode(const uint8_t* data, size_t n) {
  std::string out;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    uint32_t v = (uint32_t{data[i]} << 24) | (uint32_t{data[i + 1]} << 16) |
                 (uint32_t{data[i + 2]} << 8) | data[i + 3];
    char digits[5];
    for (int d = 4; d >= 0; d--) {
      digits[d] = kZ85[v % 85];
      v /= 85;
    }
    out.append(digits, 5);
  }
  return out;
}

bool z85_decode(const std::string& text, uint8_t* out) {
  if (text.size() % 5 != 0) return false;
  for (size_t i = 0, o = 0; i < text.size(); i += 5, o += 4) {
    uint64_t v = 0;
    for (size_t d = 0; d < 5; d++) {
      size_t digit = kZ85.find(text[i + d]);
      if (digit == std::string_view::npos) return false;
      v = v * 85 + digit;
    }
    if (v > UINT32_MAX) return false;
    out[o] = static_cast<uint8_t>(v >> 24);
    out[o + 1] = static_cast<uint8_t>(v >> 16);
    out[o + 2] = static_cast<uint8_t>(v >> 8);
    out[o + 3] = static_cast<uint8_t>(v);
  }
  return true;
}

std::array<uint8_t, CurveCert::kKeyBytes> decode_key(const std::string& text, const char* what) {
  std::array<uint8_t, CurveCert::kKeyBytes> out{};
  if (!curve_key_valid(text) || !z85_decode(text, out.data()))
    throw FluxError(EINVAL, std::string(what) + " is not a valid Z85 CURVE key");
  return out;
}

// CURVE keys are X25519 keys: OpenSSL (already libflux's) makes and checks
// them, so libflux and every command stay free of libzmq.
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string public_of(const Pkey& key) {
  uint8_t pub[CurveCert::kKeyBytes];
  size_t len = sizeof(pub);
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub, &len) != 1 || len != sizeof(pub))
    throw FluxError(EINVAL, "cannot derive a CURVE public key");
  return z85_encode(pub, len);
}

// Whether secret's public half is public_key.
bool keys_match(const std::string& public_key, const std::string& secret_key) {
  auto sec = decode_key(secret_key, "secret-key");
  Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, sec.data(), sec.size()));
  return public_of(key) == public_key;
}

[[noreturn]] void sys_error(const std::string& path, int errnum) {
  throw FluxError(errnum, path + ": " + std::strerror(errnum));
}

}  // namespace

bool curve_key_valid(std::string_view text) {
  if (text.size() != CurveCert::kKeyText) return false;
  for (char c : text)
    if (!is_alnum(c) && kZ85Extra.find(c) == std::string_view::npos) return false;
  return true;
}

std::string curve_zmq_version() {
  return std::to_string(ZMQ_VERSION_MAJOR) + "." + std::to_string(ZMQ_VERSION_MINOR) + "." +
         std::to_string(ZMQ_VERSION_PATCH);
}

CurveCert CurveCert::generate() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  uint8_t sec[kKeyBytes];
  size_t len = sizeof(sec);
  if (!key || EVP_PKEY_get_raw_private_key(key.get(), sec, &len) != 1 || len != sizeof(sec))
    throw FluxError(EINVAL, "cannot generate a CURVE key pair");
  CurveCert cert;
  cert.public_key = public_of(key);
  cert.secret_key = z85_encode(sec, len);
  return cert;
}

CurveCert CurveCert::parse(std::string_view text) {
  CurveCert cert;
  enum class Section { kNone, kMetadata, kCurve } section = Section::kNone;
  bool have_public = false;
  bool have_secret = false;
  size_t lineno = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    lineno++;
    auto fail = [&](const std::string& what) -> void {
      throw FluxError(EINVAL, "line " + std::to_string(lineno) + ": " + what);
    };
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (!indented && (line == "metadata" || line == "curve")) {
      section = line == "metadata" ? Section::kMetadata : Section::kCurve;
      continue;
    }
    if (!indented || section == Section::kNone)
      fail("unexpected '" + printable(line) + "' (not a section name or an indented entry)");
    // key = "value"
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) fail("expected key = \"value\"");
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    if (!valid_meta_key(key)) fail("invalid key '" + printable(key) + "'");
    if (value.size() < 2 || value.front() != '"' || value.back() != '"')
      fail("value of " + std::string(key) + " is not in double quotes");
    value = value.substr(1, value.size() - 2);
    if (!valid_meta_value(value))
      fail("value of " + std::string(key) + " holds a character certificates do not allow");
    if (section == Section::kMetadata) {
      if (!cert.metadata.emplace(key, value).second)
        fail("duplicate metadata key '" + std::string(key) + "'");
    } else if (key == "public-key" || key == "secret-key") {
      bool is_public = key == "public-key";
      bool& have = is_public ? have_public : have_secret;
      if (have) fail("duplicate " + std::string(key));
      if (!curve_key_valid(value)) fail(std::string(key) + " is not a valid Z85 CURVE key");
      (is_public ? cert.public_key : cert.secret_key) = value;
      have = true;
    } else {
      fail("unknown key '" + std::string(key) + "' in the curve section");
    }
  }
  if (!have_public) throw FluxError(EINVAL, "no public-key in the curve section");
  if (!have_secret) throw FluxError(EINVAL, "no secret-key in the curve section");
  (void)cert.public_key_bytes();  // the decoder's own checks too
  (void)cert.secret_key_bytes();
  if (!keys_match(cert.public_key, cert.secret_key))
    throw FluxError(EINVAL, "public-key is not the public half of secret-key");
  return cert;
}

CurveCert CurveCert::load(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) sys_error(path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat sb;
  if (::fstat(fd, &sb) < 0) sys_error(path, errno);
  if (!S_ISREG(sb.st_mode)) throw FluxError(EINVAL, path + ": not a regular file");
  // The secret key must stay the owner's.
  if (sb.st_mode & (S_IRGRP | S_IROTH)) throw FluxError(EPERM, path + ": readable by group/other");
  if (static_cast<size_t>(sb.st_size) > kMaxFileSize)
    throw FluxError(EINVAL, path + ": too large to be a certificate");
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      sys_error(path, errno);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxFileSize)
      throw FluxError(EINVAL, path + ": too large to be a certificate");
  }
  try {
    return parse(text);
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), path + ": " + e.what());
  }
}

std::string CurveCert::encode() const {
  (void)public_key_bytes();
  (void)secret_key_bytes();
  std::string out =
      "#  ZeroMQ CURVE **Secret** Certificate\n"
      "#  DO NOT DISTRIBUTE\n"
      "\n"
      "metadata\n";
  for (const auto& [key, value] : metadata) {
    if (!valid_meta_key(key))
      throw FluxError(EINVAL, "certificate metadata key '" + printable(key) +
                                  "' may hold only letters, digits, '-' and '.'");
    if (!valid_meta_value(value))
      throw FluxError(EINVAL, "certificate metadata " + key + "='" + printable(value) +
                                  "': values may hold only letters, digits, spaces and " +
                                  std::string(kZ85Extra));
    std::string line = "    " + key + " = \"" + value + "\"";
    if (line.size() > kMaxLine)
      throw FluxError(EINVAL, "certificate metadata " + key + " is too long");
    out += line + "\n";
  }
  out += "curve\n";
  out += "    public-key = \"" + public_key + "\"\n";
  out += "    secret-key = \"" + secret_key + "\"\n";
  return out;
}

void CurveCert::save(const std::string& path) const {
  std::string text = encode();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) sys_error(path, errno);
  // An existing file keeps its mode through O_TRUNC; the secret must not.
  if (::fchmod(fd, 0600) < 0) {
    int e = errno;
    ::close(fd);
    sys_error(path, e);
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      sys_error(path, e);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) < 0) sys_error(path, errno);
}

std::optional<std::string> CurveCert::meta(const std::string& key) const {
  auto it = metadata.find(key);
  if (it == metadata.end()) return std::nullopt;
  return it->second;
}

std::array<uint8_t, CurveCert::kKeyBytes> CurveCert::public_key_bytes() const {
  return decode_key(public_key, "public-key");
}

std::array<uint8_t, CurveCert::kKeyBytes> CurveCert::secret_key_bytes() const {
  return decode_key(secret_key, "secret-key");
}

}  // namespace flux
