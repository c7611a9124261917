#include "directives.hpp"

#include <cctype>
#include <optional>
#include <regex>

namespace flux::cmd {

namespace {

bool safe_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
}

std::string strip(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n\f\v");
  return std::string(s.substr(b, e - b + 1));
}

size_t count_of(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string_view::npos; p = s.find(what, p + what.size())) n++;
  return n;
}

// Quotes inside """...""" or '''...''' on one line pass through as written:
// the text between the first and last triple quote is shell-quoted.
Result<std::string> triplequote(const std::string& value) {
  auto paired = [](size_t n) { return n > 0 && n % 2 == 0; };
  if (paired(count_of(value, "\"\"\"")) || paired(count_of(value, "'''"))) {
    size_t d = value.find("\"\"\""), s = value.find("'''");
    size_t first = std::min(d, s);
    std::string q = value.substr(first, 3);
    size_t last = value.rfind(q);
    if (last > first + 2)
      return value.substr(0, first) + shell_quote(value.substr(first + 3, last - first - 3)) +
             value.substr(last + 3);
    return value;
  }
  for (const char* q : {"\"\"\"", "'''"}) {
    size_t p = value.find(q);
    if (p != std::string::npos && p + 3 < value.size())
      return Error{EINVAL, "unclosed triple quote: " + strip(value)};
  }
  return value;
}

// A """ or ''' string over several directive lines.
struct MultiLine {
  std::string quote;  // empty: none in progress
  int startline = 0;
  std::string start, indent;
  std::vector<std::string> lines;

  bool in_progress() const { return !quote.empty(); }

  void append(std::string value) {
    if (value.rfind(indent, 0) == 0) value.erase(0, indent.size());
    lines.push_back(std::move(value));
  }

  // A line ending with a triple quote: opens or closes the string (or is
  // text, if it is the other kind of quote). The finished directive text,
  // once closed.
  Result<std::optional<std::string>> process(const std::string& value, int lineno) {
    std::string q = value.substr(value.size() - 3);
    bool closed = false;
    if (!in_progress()) {
      quote = q;
      size_t b = value.find_first_not_of(" \t");
      indent = value.substr(0, b == std::string::npos ? value.size() : b);
      start = b == std::string::npos ? "" : value.substr(b);
      startline = lineno;
    } else if (q != quote) {
      append(value);
      return std::optional<std::string>();
    } else {
      closed = true;
    }
    append(value.substr(0, value.size() - 3));
    if (!closed) return std::optional<std::string>();
    std::string body;
    for (size_t i = 1; i < lines.size(); i++) body += (i > 1 ? "\n" : "") + lines[i];
    std::string result = lines[0] + shell_quote(body);
    if (result.find(quote) != std::string::npos)
      return Error{EINVAL, "improperly terminated triple quoted string at: `" + start + "'"};
    quote.clear();
    lines.clear();
    return std::optional<std::string>(std::move(result));
  }
};

Result<Directive> make_directive(const std::string& value, int lineno) {
  auto args = shell_split(value);
  if (!args)
    return Error{EINVAL,
                 "line " + std::to_string(lineno) + ": " + value + ": " + args.error().message};
  if (!args->empty() && (*args)[0].rfind('-', 0) != 0)
    return Error{EINVAL, "line " + std::to_string(lineno) + ": Unknown directive: " + value};
  return Directive{lineno, std::move(*args)};
}

}  // namespace

// Single quotes, inside which (as shell_split reads them) a backslash
// escapes a quote or a backslash: so any text splits back to itself.
std::string shell_quote(std::string_view text) {
  if (text.empty()) return "''";
  bool safe = true;
  for (char c : text) safe = safe && safe_char(c);
  if (safe) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

Result<std::vector<std::string>> shell_split(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      i++;
    } else if (c == '#') {
      break;  // a comment to the end
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Error{EINVAL, "No escaped character"};
      word += text[i + 1];
      in_word = true;
      i += 2;
    } else if (c == '\'' || c == '"') {
      // Within either quote a backslash escapes that quote or itself.
      in_word = true;
      size_t j = i + 1;
      for (;; j++) {
        if (j >= text.size()) return Error{EINVAL, "No closing quotation"};
        if (text[j] == c) break;
        if (text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == c || text[j + 1] == '\\')) {
          word += text[++j];
          continue;
        }
        word += text[j];
      }
      i = j + 1;
    } else {
      word += c;
      in_word = true;
      i++;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

Result<std::vector<Directive>> parse_directives(std::string_view script) {
  static const std::regex kSentinel(R"(^([^\w]*)((?:flux|FLUX):)(.*)$)");
  std::vector<Directive> out;
  std::optional<std::string> sentinel, prefix;
  MultiLine multi;
  bool started = false, disabled = false;
  int last_directive_line = 0;
  int lineno = 0;
  size_t pos = 0;
  while (pos < script.size()) {
    size_t nl = script.find('\n', pos);
    std::string line(script.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
    pos = nl == std::string_view::npos ? script.size() : nl + 1;
    lineno++;
    std::smatch m;
    if (!std::regex_match(line, m, kSentinel)) {
      if (multi.in_progress())
        return Error{EINVAL, "line " + std::to_string(lineno) +
                                 ": unterminated multi-line quote at line " +
                                 std::to_string(multi.startline) + ": `" + multi.start + "'"};
      std::string p = prefix ? *prefix : "";
      while (!p.empty() && std::isspace(static_cast<unsigned char>(p.back()))) p.pop_back();
      if (started && !disabled && line.rfind(p, 0) != 0 && !strip(line).empty()) {
        disabled = true;
        last_directive_line = lineno - 1;
      }
      continue;
    }
    started = true;
    std::string tag = m[2].str();
    std::string this_sentinel = m[1].str() + tag;
    if (disabled)
      return Error{EINVAL, "line " + std::to_string(lineno) + ": orphan '" + tag +
                               "' detected: directives disabled after line " +
                               std::to_string(last_directive_line)};
    auto value = triplequote(m[3].str());
    if (!value)
      return Error{EINVAL, "line " + std::to_string(lineno) + ": " + value.error().message};
    if (!sentinel) {
      sentinel = this_sentinel;
      prefix = m[1].str();
    } else if (this_sentinel != *sentinel) {
      std::string v = *value;
      v.erase(0, v.find_first_not_of(" \t"));
      return Error{EINVAL, "line " + std::to_string(lineno) + ": sentinel changed from '" +
                               *sentinel + "' to '" + this_sentinel +
                               "'\n\nAll directives in a file must use the same sentinel.\n\n"
                               "If you're trying to disable this directive, place a comment\n"
                               "character AFTER the sentinel, not in the prefix:\n\n  " +
                               *sentinel + " # " + v +
                               "\n\nThe '#' character comments out the rest of the line, "
                               "making\nthis directive a no-op while maintaining the same "
                               "sentinel."};
    }
    const std::string& v = *value;
    bool ends_triple = v.size() >= 3 && (v.compare(v.size() - 3, 3, "\"\"\"") == 0 ||
                                         v.compare(v.size() - 3, 3, "'''") == 0);
    if (ends_triple) {
      auto done = multi.process(v, lineno);
      if (!done)
        return Error{EINVAL, "line " + std::to_string(lineno) + ": " + done.error().message};
      if (*done) {
        auto d = make_directive(**done, multi.startline);
        if (!d) return d.error();
        if (!d->args.empty()) out.push_back(std::move(*d));
      }
    } else if (multi.in_progress()) {
      multi.append(v);
    } else if (!v.empty()) {
      auto d = make_directive(v, lineno);
      if (!d) return d.error();
      if (!d->args.empty()) out.push_back(std::move(*d));
    }
  }
  return out;
}

}  // namespace flux::cmd
