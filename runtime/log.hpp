// Logging: one named spdlog logger per role, key=value fields, never user text, model output or secrets.
// Session ids are logged hashed (session_tag) so logs can be correlated without exposing ids.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <string_view>

namespace sa::log {

/// Sets up the default sink (stderr or a file) and level for every logger. Safe to call again (tests).
/// Returns false with `error` filled for an unknown level or an unwritable file.
bool init(const std::string& level, const std::string& file, std::string* error = nullptr);

/// The logger for a role ("session", "gateway", ...), created on first use with the shared sink.
std::shared_ptr<spdlog::logger> get(const std::string& role);

/// A short stable hash of an identifier for logs: 12 hex digits of FNV-1a 64.
std::string tag(std::string_view id);

} // namespace sa::log
