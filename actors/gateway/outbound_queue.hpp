// outbound_queue: the frames one WebSocket connection has yet to write, bounded in count and in bytes. A
// reader that falls behind makes the queue refuse a frame, and the connection then cuts it ("slow reader").
// The frame being written counts against the frame bound but not the byte bound, so one frame larger than
// the byte bound still goes out whenever nothing else waits. Plain class on the connection's strand.
#pragma once

#include "config/config.hpp"

#include <cassert>
#include <cstddef>
#include <deque>
#include <string>

namespace sa::gateway {

class outbound_queue {
public:
  outbound_queue(std::size_t max_frames, std::size_t max_bytes) : max_frames_(max_frames), max_bytes_(max_bytes) {}

  /// The bounds a gateway's configuration sets (outbound_queue_frames, outbound_queue_bytes).
  static outbound_queue for_config(const config::gateway_config& cfg) {
    return outbound_queue{static_cast<std::size_t>(cfg.outbound_queue_frames),
                          static_cast<std::size_t>(cfg.outbound_queue_bytes)};
  }

  /// Queues a frame; false (and nothing queued) when it would pass either bound.
  [[nodiscard]] bool push(std::string frame) {
    if (frames_.size() >= max_frames_ || (waiting() > 0 && waiting_bytes_ + frame.size() > max_bytes_))
      return false;
    add(std::move(frame));
    return true;
  }

  /// Queues a frame whatever the bounds (the one error frame sent before a close).
  void force_push(std::string frame) { add(std::move(frame)); }

  /// Whether a frame waits to be written (the one being written does not count).
  bool has_waiting() const { return waiting() > 0; }
  bool writing() const { return writing_; }

  /// Marks the next waiting frame as being written and returns it; it stays valid until written().
  /// Needs has_waiting() and no write in progress.
  const std::string& start_write() {
    assert(!writing_ && has_waiting());
    writing_ = true;
    waiting_bytes_ -= frames_.front().size();
    return frames_.front();
  }

  /// The write started by start_write() completed (or failed): the frame is dropped.
  void written() {
    if (writing_) {
      writing_ = false;
      frames_.pop_front();
    }
  }

  /// Drops every waiting frame; the one being written stays until written().
  void drop_waiting() {
    frames_.erase(writing_ ? std::next(frames_.begin()) : frames_.begin(), frames_.end());
    waiting_bytes_ = 0;
  }

  std::size_t frames() const { return frames_.size(); }
  std::size_t waiting_bytes() const { return waiting_bytes_; }

private:
  std::size_t waiting() const { return frames_.size() - (writing_ ? 1 : 0); }

  void add(std::string frame) {
    waiting_bytes_ += frame.size();
    frames_.push_back(std::move(frame));
  }

  const std::size_t max_frames_;
  const std::size_t max_bytes_;
  std::deque<std::string> frames_;  // the one being written first, when writing_
  bool writing_ = false;
  std::size_t waiting_bytes_ = 0;   // the waiting frames' bytes, without the one being written
};

} // namespace sa::gateway
