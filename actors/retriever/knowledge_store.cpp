// knowledge_store: the on-disk layout of per-tenant indexes (names, stamps). The ingest itself is in
// knowledge_ingest.cpp.
#include "actors/retriever/knowledge_store.hpp"

#include <filesystem>

#include <sys/stat.h>

namespace sa::knowledge {

namespace fs = std::filesystem;

bool valid_tenant_name(std::string_view tenant, std::string* why) {
  auto refuse = [&](const std::string& what) {
    if (why)
      *why = "invalid tenant name '" + std::string(tenant.substr(0, 80)) + "': " + what;
    return false;
  };
  if (tenant.empty())
    return refuse("it is empty");
  if (tenant.size() > 64)
    return refuse("longer than 64 characters");
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(tenant.front()))
    return refuse("it must start with a letter or a digit");
  for (char c : tenant)
    if (!alnum(c) && c != '_' && c != '-' && c != '.')
      return refuse("only letters, digits, '_', '-' and '.' are allowed (no '/', no spaces)");
  return true;
}

std::string tenant_dir(const std::string& root, const std::string& tenant) {
  return (fs::path(root) / tenant).string();
}

std::string tenant_index_file(const std::string& root, const std::string& tenant) {
  return (fs::path(root) / tenant / "index.sqlite").string();
}

bool stat_file(const std::string& path, file_stamp& out) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  out.device = static_cast<std::uint64_t>(st.st_dev);
  out.inode = static_cast<std::uint64_t>(st.st_ino);
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return true;
}

} // namespace sa::knowledge
