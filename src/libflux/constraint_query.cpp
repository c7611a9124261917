#include "constraint_query.hpp"

#include <cctype>
#include <vector>

namespace flux {

namespace {

enum class Tok { kToken, kNegate, kNot, kAnd, kOr, kLparen, kRparen, kEnd };

struct Token {
  Tok type;
  std::string text;
  size_t pos;
};

bool word_end(std::string_view q, size_t i) {
  return i >= q.size() || !(std::isalnum(static_cast<unsigned char>(q[i])) || q[i] == '_');
}

std::vector<Token> lex(std::string_view q) {
  std::vector<Token> out;
  int depth = 0;
  size_t last_lparen = 0;
  size_t i = 0;
  auto is_token_char = [](char c) {
    return !std::isspace(static_cast<unsigned char>(c)) && c != '(' && c != ')' && c != '|' &&
           c != '&' && c != '"' && c != '\'';
  };
  while (i < q.size()) {
    char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      i++;
    } else if (c == '-') {
      out.push_back({Tok::kNegate, "-", i++});
    } else if (q.substr(i, 3) == "not" && word_end(q, i + 3)) {
      out.push_back({Tok::kNot, "not", i});
      i += 3;
    } else if (c == '&' || (q.substr(i, 3) == "and" && word_end(q, i + 3))) {
      size_t n = c == '&' ? (q.substr(i, 2) == "&&" ? 2 : 1) : 3;
      out.push_back({Tok::kAnd, std::string(q.substr(i, n)), i});
      i += n;
    } else if (c == '|' || (q.substr(i, 2) == "or" && word_end(q, i + 2))) {
      size_t n = c == '|' ? (q.substr(i, 2) == "||" ? 2 : 1) : 2;
      out.push_back({Tok::kOr, std::string(q.substr(i, n)), i});
      i += n;
    } else if (c == '(') {
      depth++;
      last_lparen = i;
      out.push_back({Tok::kLparen, "(", i++});
    } else if (c == ')') {
      depth--;
      out.push_back({Tok::kRparen, ")", i++});
    } else if (c == '"' || c == '\'') {
      size_t close = q.find(c, i + 1);
      if (close == std::string_view::npos)
        throw FluxError(EINVAL, "Unclosed quote in position " + std::to_string(i));
      out.push_back({Tok::kToken, std::string(q.substr(i + 1, close - i - 1)), i});
      i = close + 1;
    } else {
      size_t start = i;
      while (i < q.size() && is_token_char(q[i])) i++;
      std::string text(q.substr(start, i - start));
      // op:"quoted value" is one token.
      if (text.back() == ':') {
        if (i >= q.size() || (q[i] != '"' && q[i] != '\''))
          throw FluxError(EINVAL, "Missing argument to token '" + text + "'");
        size_t close = q.find(q[i], i + 1);
        if (close == std::string_view::npos)
          throw FluxError(EINVAL, "Unclosed quote in position " + std::to_string(i));
        text += q.substr(i + 1, close - i - 1);
        i = close + 1;
      }
      out.push_back({Tok::kToken, std::move(text), start});
    }
  }
  if (depth > 0)
    throw FluxError(EINVAL, "Unclosed parenthesis in position " + std::to_string(last_lparen));
  out.push_back({Tok::kEnd, "", q.size()});
  return out;
}

class Parser {
 public:
  Parser(std::string_view q, const ConstraintSyntax& s) : query_(q), syntax_(s), toks_(lex(q)) {}

  Json parse() {
    Json out = parse_or();
    if (peek().type != Tok::kEnd) unexpected();
    return out;
  }

 private:
  const Token& peek() const { return toks_[i_]; }
  const Token& take() { return toks_[i_++]; }

  [[noreturn]] void unexpected() const {
    const Token& t = peek();
    if (t.type == Tok::kEnd)
      throw FluxError(EINVAL, "Unexpected end of input in '" + std::string(query_) + "'");
    throw FluxError(EINVAL, "Invalid token '" + t.text + "' at position " + std::to_string(t.pos));
  }

  Json parse_or() {
    Json left = parse_and();
    while (peek().type == Tok::kOr) {
      take();
      Json right = parse_and();
      if (left.contains("or"))
        left["or"].push_back(std::move(right));
      else
        left = {{"or", Json::array({std::move(left), std::move(right)})}};
    }
    return left;
  }

  bool starts_unary() const {
    Tok t = peek().type;
    return t == Tok::kToken || t == Tok::kNegate || t == Tok::kNot || t == Tok::kLparen;
  }

  Json parse_and() {
    Json left = parse_unary();
    while (peek().type == Tok::kAnd || starts_unary()) {
      if (peek().type == Tok::kAnd) take();
      left = combine(std::move(left), parse_unary());
    }
    return left;
  }

  Json parse_unary() {
    switch (peek().type) {
      case Tok::kNot:
        take();
        return {{"not", Json::array({parse_unary()})}};
      case Tok::kNegate:
        take();
        if (peek().type != Tok::kToken) unexpected();
        return {{"not", Json::array({term(take())})}};
      case Tok::kLparen: {
        take();
        Json inner = parse_or();
        if (peek().type != Tok::kRparen) unexpected();
        take();
        return inner;
      }
      case Tok::kToken:
        return term(take());
      default:
        unexpected();
    }
  }

  // flux-core's combine_like_terms: extend an and-list, merge operators
  // that combine (properties), else and the two.
  Json combine(Json a, Json b) const {
    if (a.contains("and")) {
      a["and"].push_back(std::move(b));
      return a;
    }
    const std::string& ka = a.begin().key();
    const std::string& kb = b.begin().key();
    if (ka == kb && syntax_.combined.count(ka)) {
      for (auto& v : b[kb]) a[ka].push_back(std::move(v));
      return a;
    }
    return {{"and", Json::array({std::move(a), std::move(b)})}};
  }

  Json term(const Token& t) const {
    std::string op, value;
    auto colon = t.text.find(':');
    if (colon == std::string::npos) {
      if (syntax_.default_op.empty())
        throw FluxError(EINVAL, "Missing required operator in \"" + t.text + "\"");
      op = syntax_.default_op;
      value = t.text;
    } else {
      op = t.text.substr(0, colon);
      value = t.text.substr(colon + 1);
      if (auto it = syntax_.alias.find(op); it != syntax_.alias.end()) op = it->second;
    }
    for (char c : op)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '+' &&
          c != '@' && c != '-')
        throw FluxError(EINVAL,
                        "invalid character '" + std::string(1, c) + "' in operator '" + op + ":'");
    Json values = Json::array();
    if (auto it = syntax_.split.find(op); it != syntax_.split.end()) {
      size_t start = 0;
      while (true) {
        size_t end = value.find(it->second, start);
        values.push_back(value.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else {
      values.push_back(value);
    }
    return {{op, std::move(values)}};
  }

  std::string_view query_;
  const ConstraintSyntax& syntax_;
  std::vector<Token> toks_;
  size_t i_ = 0;
};

}  // namespace

const ConstraintSyntax& requires_syntax() {
  static const ConstraintSyntax kSyntax{
      "properties",
      {{"host", "hostlist"}, {"hosts", "hostlist"}, {"rank", "ranks"}},
      {{"properties", ','}},
      {"properties"}};
  return kSyntax;
}

Result<Json> parse_constraint_query(std::string_view query, const ConstraintSyntax& syntax) {
  try {
    return Parser(query, syntax).parse();
  } catch (const FluxError& e) {
    return Error{EINVAL, e.what()};
  }
}

}  // namespace flux
