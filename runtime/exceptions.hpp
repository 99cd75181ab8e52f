// Turns an exception escaping an actor's handler into a logged exit, instead of CAF's default line on
// stderr. The actor still dies (its supervisor or session decides what happens next); the log carries
// the role and the exception type, never its message (which could quote customer text).
#pragma once

#include <exception>

namespace caf {
class scheduled_actor;
}

namespace sa {

void log_exceptions(caf::scheduled_actor* self, const char* role);

/// The dynamic type of the exception `eptr` holds (its mangled name; "unknown" when it is not a
/// std::exception), what logs say about an exception instead of its message.
const char* exception_type(const std::exception_ptr& eptr) noexcept;

} // namespace sa
