#include "runtime/exceptions.hpp"

#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <typeinfo>

namespace sa {

void log_exceptions(caf::scheduled_actor* self, const char* role) {
  self->set_exception_handler([role](caf::scheduled_actor* who, std::exception_ptr& eptr) -> caf::error {
    log::get("actor")->error("event=actor_exception role={} actor_id={} exception_type={}", role, who->id(),
                             exception_type(eptr));
    return caf::make_error(caf::sec::runtime_error, std::string{"unhandled exception in "} + role);
  });
}

const char* exception_type(const std::exception_ptr& eptr) noexcept {
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& e) {
    return typeid(e).name();
  } catch (...) {
  }
  return "unknown";
}

} // namespace sa
