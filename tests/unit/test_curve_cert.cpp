// CURVE certificates in flux keygen's (czmq zcert) file format.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "libflux/curve_cert.hpp"
#include "libflux/result.hpp"

using namespace flux;

namespace {

// A certificate as flux-core's keygen writes it (keys from ZeroMQ's own
// test vectors: a matching pair).
constexpr const char* kFluxCoreCert =
    "#  ZeroMQ CURVE **Secret** Certificate\n"
    "#  DO NOT DISTRIBUTE\n"
    "\n"
    "metadata\n"
    "    name = \"picl0\"\n"
    "    keygen.hostname = \"picl0\"\n"
    "    keygen.time = \"2023-01-18T09:24:32\"\n"
    "    keygen.userid = \"1000\"\n"
    "    keygen.zmq-version = \"4.3.4\"\n"
    "curve\n"
    "    public-key = \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n"
    "    secret-key = \"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\"\n";

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/curvecertXXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

std::string parse_error(const std::string& text) {
  try {
    CurveCert::parse(text);
  } catch (const FluxError& e) {
    EXPECT_EQ(e.errnum(), EINVAL);
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST(CurveCert, Generate) {
  CurveCert a = CurveCert::generate();
  CurveCert b = CurveCert::generate();
  EXPECT_EQ(a.public_key.size(), CurveCert::kKeyText);
  EXPECT_EQ(a.secret_key.size(), CurveCert::kKeyText);
  EXPECT_TRUE(curve_key_valid(a.public_key));
  EXPECT_NE(a.public_key, b.public_key);
  EXPECT_NE(a.public_key_bytes(), a.secret_key_bytes());
  EXPECT_TRUE(a.metadata.empty());
}

TEST(CurveCert, ReadsFluxCoreFormat) {
  CurveCert c = CurveCert::parse(kFluxCoreCert);
  EXPECT_EQ(c.public_key, "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
  EXPECT_EQ(c.secret_key, "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs");
  EXPECT_EQ(c.meta("name"), "picl0");
  EXPECT_EQ(c.meta("keygen.time"), "2023-01-18T09:24:32");
  EXPECT_EQ(c.meta("nosuch"), std::nullopt);
  EXPECT_EQ(c.metadata.size(), 5u);
  // Tabs as indentation, CRLF line ends, no metadata section: all fine.
  CurveCert t = CurveCert::parse(
      "curve\r\n\tpublic-key = \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\r\n"
      "\tsecret-key=\"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\"\r\n");
  EXPECT_EQ(t.public_key, c.public_key);
  EXPECT_TRUE(t.metadata.empty());
}

TEST(CurveCert, EncodeParsesBack) {
  CurveCert c = CurveCert::generate();
  c.metadata = {{"name", "my cluster"}, {"keygen.time", "2024-05-01T10:00:00"}, {"empty", ""}};
  std::string text = c.encode();
  EXPECT_EQ(
      text.rfind("#  ZeroMQ CURVE **Secret** Certificate\n#  DO NOT DISTRIBUTE\n\nmetadata\n", 0),
      0u);
  EXPECT_NE(text.find("\n    name = \"my cluster\"\n"), std::string::npos);
  EXPECT_NE(text.find("\ncurve\n    public-key = \"" + c.public_key + "\"\n    secret-key = \"" +
                      c.secret_key + "\"\n"),
            std::string::npos);
  EXPECT_EQ(CurveCert::parse(text), c);
}

TEST(CurveCert, SaveAndLoad) {
  TempDir dir;
  CurveCert c = CurveCert::generate();
  c.metadata["name"] = "test";
  std::string path = dir.file("curve.cert");
  c.save(path);
  struct stat sb;
  ASSERT_EQ(stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  EXPECT_EQ(CurveCert::load(path), c);
  // Saving over a file that others could read makes it private again.
  chmod(path.c_str(), 0644);
  c.save(path);
  ASSERT_EQ(stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  // And a flux-core certificate loads.
  write_file(dir.file("core.cert"), kFluxCoreCert, 0600);
  EXPECT_EQ(CurveCert::load(dir.file("core.cert")).meta("name"), "picl0");
}

TEST(CurveCert, LoadErrors) {
  TempDir dir;
  auto load_error = [](const std::string& path, int errnum) -> std::string {
    try {
      CurveCert::load(path);
    } catch (const FluxError& e) {
      EXPECT_EQ(e.errnum(), errnum) << e.what();
      return e.what();
    }
    return "accepted";
  };
  std::string missing = dir.file("missing");
  EXPECT_EQ(load_error(missing, ENOENT), missing + ": No such file or directory");

  write_file(dir.file("open.cert"), kFluxCoreCert, 0640);
  EXPECT_EQ(load_error(dir.file("open.cert"), EPERM),
            dir.file("open.cert") + ": readable by group/other");
  write_file(dir.file("world.cert"), kFluxCoreCert, 0604);
  EXPECT_NE(load_error(dir.file("world.cert"), EPERM).find("readable by group/other"),
            std::string::npos);

  write_file(dir.file("garbled.cert"), "metadata\n    name = \"x\"\nhello\n", 0600);
  EXPECT_EQ(load_error(dir.file("garbled.cert"), EINVAL),
            dir.file("garbled.cert") +
                ": line 3: unexpected 'hello' (not a section name or an indented entry)");

  write_file(dir.file("empty.cert"), "", 0600);
  EXPECT_NE(load_error(dir.file("empty.cert"), EINVAL).find("no public-key"), std::string::npos);

  EXPECT_NE(load_error(dir.path(), EINVAL).find("not a regular file"), std::string::npos);
}

TEST(CurveCert, RejectsGarbledText) {
  const std::string pub = "    public-key = \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n";
  const std::string sec = "    secret-key = \"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\"\n";
  // The pair of another (generated) key: a mismatch.
  const CurveCert other = CurveCert::generate();
  EXPECT_EQ(parse_error("curve\n" + pub), "no secret-key in the curve section");
  EXPECT_EQ(parse_error("curve\n" + sec), "no public-key in the curve section");
  EXPECT_EQ(parse_error("curve\n" + pub + "    secret-key = \"" + other.secret_key + "\"\n"),
            "public-key is not the public half of secret-key");
  EXPECT_EQ(parse_error("curve\n" + pub + pub + sec), "line 3: duplicate public-key");
  EXPECT_EQ(parse_error("curve\n    public-key = \"short\"\n"),
            "line 2: public-key is not a valid Z85 CURVE key");
  EXPECT_EQ(parse_error("curve\n    public-key = Yne@\n"),
            "line 2: value of public-key is not in double quotes");
  EXPECT_EQ(parse_error("curve\n    other-key = \"x\"\n"),
            "line 2: unknown key 'other-key' in the curve section");
  EXPECT_EQ(parse_error("metadata\n    name\n"), "line 2: expected key = \"value\"");
  EXPECT_EQ(parse_error("metadata\n    a_b = \"x\"\n"), "line 2: invalid key 'a_b'");
  EXPECT_EQ(parse_error("metadata\n    a = \"x\"\n    a = \"y\"\n"),
            "line 3: duplicate metadata key 'a'");
  EXPECT_EQ(parse_error("metadata\n    a = \"x\\\"y\"\n"),
            "line 2: value of a holds a character certificates do not allow");
  EXPECT_EQ(parse_error("    name = \"x\"\n"),
            "line 1: unexpected 'name = \"x\"' (not a section name or an indented entry)");
  EXPECT_EQ(parse_error("  curve\n"),
            "line 1: unexpected 'curve' (not a section name or an "
            "indented entry)");
  EXPECT_NE(parse_error(std::string("\x01\x02garbage")).find("\\x01\\x02garbage"),
            std::string::npos);
}

TEST(CurveCert, EncodeRefusesWhatCannotBeRead) {
  CurveCert c = CurveCert::generate();
  c.metadata["bad key"] = "x";
  EXPECT_THROW(c.encode(), FluxError);
  c.metadata = {{"name", "quote\"d"}};
  EXPECT_THROW(c.encode(), FluxError);
  c.metadata = {{"name", "under_score"}};
  EXPECT_THROW(c.encode(), FluxError);
  c.metadata = {{"name", std::string(300, 'x')}};
  EXPECT_THROW(c.encode(), FluxError);
  c.metadata.clear();
  c.public_key = "tooshort";
  EXPECT_THROW(c.encode(), FluxError);
}
