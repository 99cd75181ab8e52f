// fake_provider_fixture: see the header.
#include "fake_provider_fixture.hpp"

#include "actors/providers/fake/fake_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <future>
#include <stdexcept>
#include <thread>
#include <utility>

namespace sa::test {

namespace net = boost::asio;
using providers::fake::fake_service;
using providers::fake::fault_kind;
using providers::fake::fault_spec;

struct fake_provider_fixture::impl {
  explicit impl(const fake_provider_options& o) : service(service_opts(o)), server(ioc, service) {}

  static providers::fake::service_options service_opts(const fake_provider_options& o) {
    providers::fake::service_options s;
    s.ttft_ms = o.ttft_ms;
    s.tokens_per_s = o.tokens_per_s;
    s.seed = o.seed;
    s.embedding_dim = o.embedding_dim;
    return s;
  }

  /// Runs `f` on the io thread and waits; an exception thrown by `f` is rethrown here.
  template <class F>
  auto run(F f) -> decltype(f()) {
    if (std::this_thread::get_id() == thread.get_id())
      throw std::logic_error("fake_provider_fixture: accessor called on its own io thread");
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    net::post(ioc, [&task] { task(); });
    return result.get();
  }

  net::io_context ioc{1};
  fake_service service;
  providers::fake::fake_server server;
  std::thread thread;
};

fake_provider_fixture::fake_provider_fixture(fake_provider_options opts)
    : impl_(std::make_unique<impl>(opts)) {
  auto p = impl_->server.listen(opts.port);
  if (!p)
    throw std::runtime_error(p.error());
  port_ = *p;
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

fake_provider_fixture::~fake_provider_fixture() {
  net::post(impl_->ioc, [this] {
    impl_->server.stop();
    impl_->ioc.stop();
  });
  impl_->thread.join();
}

std::string fake_provider_fixture::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void fake_provider_fixture::set_faults(std::vector<fault_spec> faults) {
  impl_->run([this, &faults] { impl_->service.faults().replace(std::move(faults)); });
}

void fake_provider_fixture::add_fault(fault_spec fault) {
  impl_->run([this, &fault] { impl_->service.faults().add(std::move(fault)); });
}

void fake_provider_fixture::clear_faults() {
  impl_->run([this] { impl_->service.faults().clear(); });
}

uint64_t fake_provider_fixture::requests(std::string_view route) {
  return impl_->run([this, route] { return impl_->service.faults().requests(route); });
}

uint64_t fake_provider_fixture::faults(fault_kind kind) {
  return impl_->run([this, kind] { return impl_->service.faults().faults(kind); });
}

uint64_t fake_provider_fixture::total_requests() {
  return impl_->run([this] { return impl_->service.faults().total(); });
}

void fake_provider_fixture::reset_stats() {
  impl_->run([this] { impl_->service.faults().reset_stats(); });
}

std::string fake_provider_fixture::stats_json() {
  return impl_->run([this] { return impl_->service.faults().stats_json(); });
}

providers::fake::received_request fake_provider_fixture::last_request() {
  return impl_->run([this] { return impl_->service.last_chat_request(); });
}

void fake_provider_fixture::on_io(std::function<void(fake_service&)> f) {
  impl_->run([this, &f] { f(impl_->service); });
}

fault_spec status_fault(int status, int64_t count, std::string provider) {
  fault_spec f;
  f.provider = std::move(provider);
  f.kind = fault_kind::status;
  f.status = status;
  f.count = count;
  return f;
}

fault_spec make_fault(fault_kind kind, int64_t count, std::string provider) {
  fault_spec f;
  f.provider = std::move(provider);
  f.kind = kind;
  f.count = count;
  return f;
}

} // namespace sa::test
