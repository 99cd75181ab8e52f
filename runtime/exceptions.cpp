#include "runtime/exceptions.hpp"

#include "runtime/log.hpp"

#include "caf/all.hpp"

#include <typeinfo>

namespace sa {

void log_exceptions(caf::scheduled_actor* self, const char* role) {
  self->set_exception_handler([role](caf::scheduled_actor* who, std::exception_ptr& eptr) -> caf::error {
    const char* type = "unknown";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      type = typeid(e).name();
    } catch (...) {
    }
    log::get("actor")->error("event=actor_exception role={} actor_id={} exception_type={}", role, who->id(),
                             type);
    return caf::make_error(caf::sec::runtime_error, std::string{"unhandled exception in "} + role);
  });
}

} // namespace sa
