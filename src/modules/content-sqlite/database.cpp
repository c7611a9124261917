#include "database.hpp"

#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "libflux/result.hpp"

namespace flux::content_sqlite {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS objects("
    "  hash BLOB PRIMARY KEY,"
    "  size INT,"  // uncompressed size, or -1 if stored as is
    "  object BLOB"
    ");"
    "CREATE TABLE IF NOT EXISTS checkpt("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT"
    ");";

int errno_from_sqlite(int code) {
  switch (code & 0xff) {
    case SQLITE_IOERR:
      return EIO;
    case SQLITE_NOMEM:
      return ENOMEM;
    case SQLITE_ABORT:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return EPERM;
    case SQLITE_TOOBIG:
      return EFBIG;
    case SQLITE_FULL:
      return ENOSPC;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return EINVAL;
    default:
      return EIO;
  }
}

}  // namespace

// A prepared statement, reset (and its bindings cleared) after each use.
class Database::Statement {
 public:
  Statement(Database& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db.db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK)
      db.fail(std::string("preparing \"") + sql + "\"");
  }
  ~Statement() { sqlite3_finalize(stmt_); }

  // Use for one execution: bindings, steps, then reset on scope exit.
  struct Use {
    Statement& s;
    explicit Use(Statement& st) : s(st) {}
    ~Use() {
      sqlite3_reset(s.stmt_);
      sqlite3_clear_bindings(s.stmt_);
    }
    void bind_blob(int i, std::string_view v) {
      if (sqlite3_bind_blob64(s.stmt_, i, v.data(), v.size(), SQLITE_STATIC) != SQLITE_OK)
        s.db_.fail("binding a blob");
    }
    void bind_text(int i, std::string_view v) {
      if (sqlite3_bind_text64(s.stmt_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8) !=
          SQLITE_OK)
        s.db_.fail("binding text");
    }
    void bind_int(int i, sqlite3_int64 v) {
      if (sqlite3_bind_int64(s.stmt_, i, v) != SQLITE_OK) s.db_.fail("binding an integer");
    }
    // True if a row is ready, false when done.
    bool step(const char* what) {
      int rc = sqlite3_step(s.stmt_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      s.db_.fail(what);
    }
    sqlite3_stmt* get() { return s.stmt_; }
  };

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

Database::Database(std::string path) : path_(std::move(path)) {
  // The database is the owner's alone (0600, and SQLite gives its -wal and
  // -shm files the same mode): create it so before SQLite does with 0644.
  int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw FluxError(errno, path_ + ": cannot open: " + std::strerror(errno));
  ::fchmod(fd, 0600);
  ::close(fd);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    if (!db_) throw FluxError(ENOMEM, path_ + ": cannot open: out of memory");
    try {
      fail("cannot open");
    } catch (...) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }
  sqlite3_extended_result_codes(db_, 1);
  try {
    // Exclusive locking before WAL: no shared-memory index, and a second
    // broker on the same file fails here instead of sharing it.
    exec("PRAGMA locking_mode=EXCLUSIVE");
    if (query_text("PRAGMA journal_mode=WAL") != "wal")
      throw FluxError(EINVAL, path_ + ": cannot use the WAL journal mode");
    exec("PRAGMA synchronous=FULL");
    exec(kSchema);
    begin_ = std::make_unique<Statement>(*this, "BEGIN");
    commit_ = std::make_unique<Statement>(*this, "COMMIT");
    rollback_ = std::make_unique<Statement>(*this, "ROLLBACK");
    load_ = std::make_unique<Statement>(*this, "SELECT object,size FROM objects WHERE hash = ?1");
    store_ = std::make_unique<Statement>(
        *this, "INSERT OR IGNORE INTO objects (hash,size,object) VALUES (?1,?2,?3)");
    checkpt_get_ = std::make_unique<Statement>(*this, "SELECT value FROM checkpt WHERE key = ?1");
    checkpt_put_ =
        std::make_unique<Statement>(*this, "REPLACE INTO checkpt (key,value) VALUES (?1,?2)");
  } catch (...) {
    close();
    throw;
  }
}

Database::~Database() {
  if (in_transaction()) rollback();
  close();
}

// Statements first: SQLite refuses to close a database with live ones.
void Database::close() {
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  load_.reset();
  store_.reset();
  checkpt_get_.reset();
  checkpt_put_.reset();
  sqlite3_close(db_);  // checkpoints the WAL into the database
  db_ = nullptr;
}

void Database::fail(const std::string& what) const {
  int code = sqlite3_extended_errcode(db_);
  std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  int err = errno_from_sqlite(code);
  // For I/O and open failures the system's errno says more.
  int sys = sqlite3_system_errno(db_);
  if (sys > 0 && ((code & 0xff) == SQLITE_CANTOPEN || (code & 0xff) == SQLITE_IOERR)) {
    msg += std::string(" (") + std::strerror(sys) + ")";
    err = sys;
  }
  throw FluxError(err, msg);
}

void Database::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw FluxError(errno_from_sqlite(sqlite3_extended_errcode(db_)), path_ + ": " + msg);
  }
}

std::string Database::query_text(const char* sql) {
  sqlite3_stmt* st = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    out = text ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("cannot open");
  return out;
}

char* Database::scratch(size_t n) {
  if (n > buf_size_) {
    buf_ = std::make_unique_for_overwrite<char[]>(n);
    buf_size_ = n;
  }
  return buf_.get();
}

bool Database::in_transaction() const {
  return db_ && !sqlite3_get_autocommit(db_);
}

void Database::begin() {
  Statement::Use u(*begin_);
  u.step("BEGIN");
}

void Database::commit() {
  Statement::Use u(*commit_);
  u.step("COMMIT");
}

void Database::rollback() {
  if (!in_transaction()) return;
  Statement::Use u(*rollback_);
  try {
    u.step("ROLLBACK");
  } catch (const FluxError&) {
  }
}

std::optional<std::string> Database::load(std::string_view digest) {
  Statement::Use u(*load_);
  u.bind_blob(1, digest);
  if (!u.step("loading a blob")) return std::nullopt;
  sqlite3_stmt* s = u.get();
  const char* data = static_cast<const char*>(sqlite3_column_blob(s, 0));
  int len = sqlite3_column_bytes(s, 0);
  sqlite3_int64 size = sqlite3_column_int64(s, 1);
  if (size < 0) return std::string(data ? data : "", static_cast<size_t>(len));
  if (size > INT_MAX) throw FluxError(EINVAL, path_ + ": bad size of a stored blob");
  std::string out(static_cast<size_t>(size), '\0');
  int n = LZ4_decompress_safe(data, out.data(), len, static_cast<int>(size));
  if (n != size) throw FluxError(EINVAL, path_ + ": a stored blob does not decompress");
  return out;
}

void Database::store(std::string_view digest, std::string_view blob) {
  std::string_view object = blob;
  sqlite3_int64 size = -1;
  if (blob.size() >= kCompressThreshold && blob.size() <= LZ4_MAX_INPUT_SIZE) {
    int bound = LZ4_compressBound(static_cast<int>(blob.size()));
    char* out = scratch(static_cast<size_t>(bound));
    int n = LZ4_compress_default(blob.data(), out, static_cast<int>(blob.size()), bound);
    // Incompressible blobs are kept as they are.
    if (n > 0 && static_cast<size_t>(n) < blob.size()) {
      object = std::string_view(out, static_cast<size_t>(n));
      size = static_cast<sqlite3_int64>(blob.size());
    }
  }
  Statement::Use u(*store_);
  u.bind_blob(1, digest);
  u.bind_int(2, size);
  u.bind_blob(3, object);
  u.step("storing a blob");
}

std::optional<std::string> Database::checkpoint_get(std::string_view key) {
  Statement::Use u(*checkpt_get_);
  u.bind_text(1, key);
  if (!u.step("reading a checkpoint")) return std::nullopt;
  const unsigned char* text = sqlite3_column_text(u.get(), 0);
  int len = sqlite3_column_bytes(u.get(), 0);
  return std::string(text ? reinterpret_cast<const char*>(text) : "", static_cast<size_t>(len));
}

void Database::checkpoint_put(std::string_view key, std::string_view value) {
  Statement::Use u(*checkpt_put_);
  u.bind_text(1, key);
  u.bind_text(2, value);
  u.step("writing a checkpoint");
}

}  // namespace flux::content_sqlite
