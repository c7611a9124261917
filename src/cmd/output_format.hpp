// Output formats in the style of flux-core's tools: Python format strings
// "{field:spec}" with literal text between them. Supported: alignment
// (<, >, ^), width, .precision, a trailing '+' (cut to precision and mark
// the cut with '+'), the conversion "!d" for timestamps whose spec is
// "STRFTIME::ALIGN" (local time), the prefix "?:" for a column that is
// dropped (with the text before it) when empty or "0" on every line, "+:"
// for one as wide as its widest value, and "?+:" for both.
// Widths count UTF-8 code points.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace flux::cmd {

class OutputFormat {
 public:
  // The value of a field for one line ("" if unknown); timestamps as text
  // of a number of seconds.
  using Getter = std::function<std::string(const std::string& field)>;

  // Throws FluxError(EINVAL) for a malformed format or unknown field.
  OutputFormat(const std::string& format, std::map<std::string, std::string> headings);

  // Drop the optional columns empty on every line; widen each "+:"
  // (expandable) column to its widest value, and its heading if printed.
  void filter_empty(const std::vector<Getter>& lines, bool with_header = true);
  std::string header() const;
  // filter_empty, then the header (unless no_header) and each line that is
  // not blank, on stdout.
  void print_items(const std::vector<Getter>& lines, bool no_header);
  std::string format(const Getter& get) const;
  // The line with some fields left out (for combining like lines).
  std::string key(const Getter& get, const std::vector<std::string>& except) const;

 private:
  struct Item {
    std::string text;  // literal before the field
    std::string field;
    std::string conv;
    std::string spec;
    bool optional = false;
    bool expand = false;
  };
  std::string render(const Item& it, const std::string& value) const;

  std::vector<Item> items_;
  std::string tail_;
  std::map<std::string, std::string> headings_;
};

}  // namespace flux::cmd
