// CurveCert: a ZeroMQ CURVE certificate, the long-term key pair that
// secures the overlay network, in the file format `flux keygen` writes
// (czmq's zcert, a subset of ZPL, ZeroMQ RFC 4):
//
//   #  ZeroMQ CURVE **Secret** Certificate
//   #  DO NOT DISTRIBUTE
//
//   metadata
//       name = "cluster"
//       keygen.hostname = "node0"
//   curve
//       public-key = "<40 characters of Z85>"
//       secret-key = "<40 characters of Z85>"
//
// Reading follows flux-core's reader: '#' comments and blank lines are
// skipped; "metadata" and "curve" are section names at the start of a line;
// every other line is an indented `key = "value"` in the current section.
// Keys are letters, digits, '-' and '.'; values letters, digits, spaces and
// .-:+=^!/*?&<>()[]{}@%$#. Both keys must be there and form a pair.
//
// Since the file holds the secret key, load() refuses a file readable by
// group or other (EPERM), as flux-core's broker does, and save() writes
// mode 0600.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace flux {

struct CurveCert {
  static constexpr size_t kKeyBytes = 32;  // a curve25519 key
  static constexpr size_t kKeyText = 40;   // its Z85 encoding
  // flux-core reads lines into a 256-byte buffer; longer metadata lines
  // would not survive, so save() refuses them.
  static constexpr size_t kMaxLine = 254;

  std::string public_key;  // Z85
  std::string secret_key;  // Z85
  std::map<std::string, std::string> metadata;

  // A new key pair (zmq_curve_keypair), no metadata. FluxError if libzmq
  // has no CURVE support.
  static CurveCert generate();

  // Parse the file format. FluxError(EINVAL) naming the line at fault, e.g.
  // "line 7: expected key = \"value\"", or the missing/mismatched key.
  static CurveCert parse(std::string_view text);
  // Read and parse path. FluxError: "PATH: <strerror>" (ENOENT, EACCES...),
  // "PATH: readable by group/other" (EPERM), "PATH: line 7: ..." (EINVAL).
  static CurveCert load(const std::string& path);

  // The file text. FluxError(EINVAL) if a key or metadata entry cannot be
  // written so that it reads back (bad characters, line too long).
  std::string encode() const;
  // Write encode() to path (created or truncated), mode 0600.
  void save(const std::string& path) const;

  // Metadata value, or nullopt.
  std::optional<std::string> meta(const std::string& key) const;

  // The raw keys, for zmq_setsockopt(ZMQ_CURVE_PUBLICKEY / SECRETKEY /
  // SERVERKEY). FluxError(EINVAL) if a key is not valid Z85.
  std::array<uint8_t, kKeyBytes> public_key_bytes() const;
  std::array<uint8_t, kKeyBytes> secret_key_bytes() const;

  bool operator==(const CurveCert&) const = default;
};

// Whether text is a valid Z85-encoded CURVE key (40 characters).
bool curve_key_valid(std::string_view text);

// The version of the libzmq in use, "4.3.4".
std::string curve_zmq_version();

}  // namespace flux
