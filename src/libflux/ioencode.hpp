// RFC 24-style io objects, as rexec output/write and the job shell's output
// carry them: {"stream":S,"rank":R,"data":D,"eof":true}. Data that is not
// valid UTF-8 travels base64-encoded with "encoding":"base64", as flux-core's
// ioencode() does, so any bytes survive the trip.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "json.hpp"
#include "result.hpp"

namespace flux {

struct IoData {
  std::string stream;
  std::string rank;
  std::string data;  // raw bytes, decoded
  bool eof = false;
};

// The "data" member of o (and "encoding":"base64" unless data is valid
// UTF-8), as io objects and pty messages carry bytes.
void data_encode_into(Json& o, std::string_view data);
// Its bytes back: "" if o has no data; EPROTO if malformed.
Result<std::string> data_decode(const Json& o);

// Encode data (may be empty only when eof) for stream on rank.
Json io_encode(std::string_view stream, std::string_view rank, std::string_view data, bool eof);
Result<IoData> io_decode(const Json& io);

// Length of the longest prefix of `data` that ends on a UTF-8 character
// boundary, if everything up to there is valid UTF-8; a split character
// at the end is left out. Returns std::string_view::npos if the data holds
// an invalid sequence (it must travel as base64).
size_t utf8_complete_prefix(std::string_view data);

}  // namespace flux
