// Database: the content-sqlite module's SQLite file. Blobs by binary digest
// (LZ4-compressed from kCompressThreshold bytes up, when that saves space)
// and checkpoints by key. WAL journal, synchronous=FULL, exclusive locking:
// a committed transaction is on disk, and one broker owns the file.
//
// Every method throws FluxError (errno from the SQLite error, message
// naming the file) on failure. Not thread-safe; one module thread uses it.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace flux::content_sqlite {

constexpr size_t kCompressThreshold = 256;

class Database {
 public:
  // Open or create the file and its tables.
  explicit Database(std::string path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }

  void begin();
  void commit();
  void rollback();  // never throws
  bool in_transaction() const;

  // The blob stored under digest, or nullopt.
  std::optional<std::string> load(std::string_view digest);
  // Store a blob under its digest; storing it again is a no-op.
  void store(std::string_view digest, std::string_view blob);
  std::optional<std::string> checkpoint_get(std::string_view key);
  void checkpoint_put(std::string_view key, std::string_view value);

 private:
  void close();
  class Statement;
  void exec(const char* sql);
  std::string query_text(const char* sql);  // first column of the first row
  [[noreturn]] void fail(const std::string& what) const;
  char* scratch(size_t n);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statement> begin_, commit_, rollback_;
  std::unique_ptr<Statement> load_, store_, checkpt_get_, checkpt_put_;
  std::unique_ptr<char[]> buf_;  // LZ4 scratch, reused
  size_t buf_size_ = 0;
};

}  // namespace flux::content_sqlite
