// outbound_queue: a connection's frames to write, bounded in count and in bytes, without sockets.
#include "actors/gateway/outbound_queue.hpp"

#include <catch2/catch.hpp>

#include <string>

using sa::gateway::outbound_queue;

TEST_CASE("outbound queue: the frame bound counts every frame, the one being written included",
          "[gateway][limits]") {
  outbound_queue q{2, 1 << 20};
  REQUIRE(q.push("a"));
  CHECK(q.start_write() == "a");
  CHECK(q.push("b"));
  CHECK_FALSE(q.push("c"));
  CHECK(q.frames() == 2);
  q.written();
  CHECK(q.push("c"));
  CHECK(q.frames() == 2);
}

TEST_CASE("outbound queue: the byte bound counts the waiting frames, not the one being written",
          "[gateway][limits]") {
  outbound_queue q{1000, 100};
  REQUIRE(q.push(std::string(60, 'a')));
  CHECK(q.waiting_bytes() == 60);
  CHECK(q.push(std::string(40, 'b')));  // 100 waiting: at the bound, not past it
  CHECK_FALSE(q.push("c"));
  CHECK(q.waiting_bytes() == 100);
  CHECK(q.start_write().size() == 60);  // the 60 bytes being written no longer count
  CHECK(q.waiting_bytes() == 40);
  CHECK(q.push(std::string(60, 'c')));
  CHECK_FALSE(q.push("d"));
  q.written();
  CHECK(q.frames() == 2);
  CHECK(q.waiting_bytes() == 100);
}

TEST_CASE("outbound queue: one frame larger than the byte bound goes out when nothing else waits",
          "[gateway][limits]") {
  outbound_queue q{1000, 100};
  // Alone in the queue.
  REQUIRE(q.push(std::string(500, 'h')));
  CHECK(q.start_write().size() == 500);
  // Behind a frame being written, as an agent's history frame follows the ok frame of a take.
  outbound_queue r{1000, 100};
  REQUIRE(r.push("ok"));
  r.start_write();
  CHECK(r.push(std::string(500, 'h')));
  // But not behind another waiting frame.
  CHECK_FALSE(r.push("x"));
  r.written();
  CHECK(r.start_write().size() == 500);
  CHECK(r.push("x"));
}

TEST_CASE("outbound queue: a slow reader's waiting frames are dropped, the one being written kept",
          "[gateway][limits]") {
  outbound_queue q{1000, 100};
  REQUIRE(q.push("first"));
  const std::string& writing = q.start_write();
  REQUIRE(q.push("second"));
  REQUIRE(q.push("third"));
  q.drop_waiting();
  CHECK(q.frames() == 1);
  CHECK(q.waiting_bytes() == 0);
  CHECK(writing == "first");  // still valid for the write in flight
  CHECK_FALSE(q.has_waiting());
  q.written();
  CHECK(q.frames() == 0);
  // With no write in progress, everything goes.
  REQUIRE(q.push("a"));
  q.drop_waiting();
  CHECK(q.frames() == 0);
  CHECK_FALSE(q.writing());
}

TEST_CASE("outbound queue: the gateway's configuration sets the frame bound and the byte bound",
          "[gateway][limits]") {
  sa::config::gateway_config cfg;
  cfg.outbound_queue_frames = 3;
  cfg.outbound_queue_bytes = 1024;
  auto frames = outbound_queue::for_config(cfg);
  REQUIRE(frames.push("a"));
  REQUIRE(frames.push("b"));
  REQUIRE(frames.push("c"));
  CHECK_FALSE(frames.push("d"));  // the fourth frame, though far under 1024 bytes
  auto bytes = outbound_queue::for_config(cfg);
  REQUIRE(bytes.push(std::string(1000, 'a')));
  CHECK(bytes.push(std::string(24, 'b')));
  CHECK_FALSE(bytes.push("c"));  // the third frame, over 1024 bytes
}

TEST_CASE("outbound queue: the error frame before a close is queued past the bounds", "[gateway][limits]") {
  outbound_queue q{1, 10};
  REQUIRE(q.push("a"));
  CHECK_FALSE(q.push("b"));
  q.force_push(std::string(50, 'e'));
  CHECK(q.frames() == 2);
  CHECK(q.start_write() == "a");
  q.written();
  CHECK(q.start_write().size() == 50);
  q.written();
  CHECK_FALSE(q.has_waiting());
}
