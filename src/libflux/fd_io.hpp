// Reading and writing a file descriptor (a pipe or socket) on a Reactor.
// The Asio side stays in fd_io.cpp, so users compile without Asio.
#pragma once

#include <functional>
#include <memory>
#include <cstddef>
#include <string>
#include <string_view>

#include "reactor.hpp"

namespace flux {

// Reads an fd (a pipe or socket) until EOF or an error, passing each chunk
// to on_data and then calling on_eof once. Owns and closes the fd.
class FdReader {
 public:
  FdReader(Reactor& r, int fd, std::function<void(std::string_view)> on_data,
           std::function<void()> on_eof);
  ~FdReader();
  FdReader(const FdReader&) = delete;
  FdReader& operator=(const FdReader&) = delete;
  bool done() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Writes queued data to an fd (a pipe or socket) as it becomes writable.
// close() closes the fd once everything queued is written, even if the
// FdWriter is destroyed before then. Write errors
// (EPIPE: the reader is gone) drop the rest quietly. Owns the fd.
class FdWriter {
 public:
  FdWriter(Reactor& r, int fd);
  ~FdWriter();
  FdWriter(const FdWriter&) = delete;
  FdWriter& operator=(const FdWriter&) = delete;
  void write(std::string data);
  void close();
  bool closed() const;
  // Bytes queued and not yet written.
  size_t pending() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace flux
