#include "fd_io.hpp"

#include <deque>
#include <vector>

#include "asio_reactor.hpp"

namespace flux {

namespace {
constexpr size_t kReadSize = 64 * 1024;
}

// Impl objects are shared with the pending Asio handlers, so a handler
// that runs after its owner is gone finds them still alive (and stopped).
struct FdReader::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ctx, int fd) : sd(ctx, fd) {}
  asio::posix::stream_descriptor sd;
  std::function<void(std::string_view)> on_data;
  std::function<void()> on_eof;
  std::vector<char> buf = std::vector<char>(kReadSize);
  bool done = false;

  void start() {
    sd.async_read_some(
        asio::buffer(buf),
        [self = shared_from_this()](const asio::error_code& ec, size_t n) { self->handle(ec, n); });
  }
  void handle(const asio::error_code& ec, size_t n) {
    if (done) return;
    if (n > 0 && on_data) on_data(std::string_view(buf.data(), n));
    if (done) return;  // on_data may have stopped us
    if (ec) {
      done = true;
      asio::error_code ignore;
      sd.close(ignore);
      if (on_eof) on_eof();
      return;
    }
    start();
  }
};

FdReader::FdReader(Reactor& r, int fd, std::function<void(std::string_view)> on_data,
                   std::function<void()> on_eof)
    : impl_(std::make_shared<Impl>(io_context(r), fd)) {
  impl_->on_data = std::move(on_data);
  impl_->on_eof = std::move(on_eof);
  impl_->start();
}

FdReader::~FdReader() {
  impl_->done = true;
  impl_->on_data = nullptr;
  impl_->on_eof = nullptr;
  asio::error_code ignore;
  impl_->sd.close(ignore);
}

bool FdReader::done() const {
  return impl_->done;
}

struct FdWriter::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& ctx, int fd) : sd(ctx, fd) {}
  asio::posix::stream_descriptor sd;
  std::deque<std::string> queue;
  size_t queued = 0;  // bytes in queue
  bool writing = false;
  bool closing = false;
  bool closed = false;

  void kick() {
    if (closed || writing) return;
    if (queue.empty()) {
      if (closing) finish();
      return;
    }
    writing = true;
    asio::async_write(sd, asio::buffer(queue.front()),
                      [self = shared_from_this()](const asio::error_code& ec, size_t) {
                        self->writing = false;
                        if (self->closed) return;
                        if (ec) {
                          self->finish();
                          return;
                        }
                        self->queued -= self->queue.front().size();
                        self->queue.pop_front();
                        self->kick();
                      });
  }
  void finish() {
    closed = true;
    queue.clear();
    queued = 0;
    asio::error_code ignore;
    sd.close(ignore);
  }
};

FdWriter::FdWriter(Reactor& r, int fd) : impl_(std::make_shared<Impl>(io_context(r), fd)) {}

// A writer that was closed finishes writing what it holds (its pending
// handler keeps it alive); one that was not is closed now.
FdWriter::~FdWriter() {
  if (!impl_->closed && !impl_->closing) impl_->finish();
}

void FdWriter::write(std::string data) {
  if (impl_->closed || impl_->closing || data.empty()) return;
  impl_->queued += data.size();
  impl_->queue.push_back(std::move(data));
  impl_->kick();
}

void FdWriter::close() {
  impl_->closing = true;
  impl_->kick();
}

size_t FdWriter::pending() const {
  return impl_->queued;
}

bool FdWriter::closed() const {
  return impl_->closed || impl_->closing;
}

}  // namespace flux
