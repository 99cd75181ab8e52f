// The handoff router's decisions without an actor system: merging members' queues, locating a record from
// probe answers, and the location cache.
#include "actors/cluster/handoff_fanout.hpp"

#include <catch2/catch.hpp>

using namespace sa;
using namespace sa::cluster;

namespace {

handoff_view record(const std::string& tenant, const std::string& id, int64_t created, const std::string& state = "queued") {
  handoff_view v;
  v.tenant = tenant_id{tenant};
  v.id = id;
  v.created_unix_ms = created;
  v.state = state;
  return v;
}

std::vector<std::string> ids(const std::vector<handoff_view>& vs) {
  std::vector<std::string> out;
  for (auto& v : vs)
    out.push_back(v.id);
  return out;
}

} // namespace

TEST_CASE("merged queues list every member's records once, oldest first") {
  std::vector<member_list> answers{
    {"node-a", true, {record("acme", "HO-a1", 30), record("acme", "HO-a2", 10)}},
    {"node-b", true, {record("acme", "HO-b1", 20), record("acme", "HO-a1", 30, "assigned")}},
    {"node-c", true, {}},
  };
  auto merged = merge_lists(answers);
  CHECK(ids(merged) == std::vector<std::string>{"HO-a2", "HO-b1", "HO-a1"});
  CHECK(merged[2].state == "queued");  // the first member's copy wins
}

TEST_CASE("a member that failed to answer adds nothing to the merged queue, and ties sort by id") {
  std::vector<member_list> answers{
    {"node-a", true, {record("acme", "HO-z", 5), record("acme", "HO-m", 5)}},
    {"node-b", false, {record("acme", "HO-b", 1)}},
  };
  CHECK(ids(merge_lists(answers)) == std::vector<std::string>{"HO-m", "HO-z"});
  CHECK(merge_lists({}).empty());
}

TEST_CASE("the same handoff id of two tenants is two records") {
  auto merged = merge_lists({{"node-a", true, {record("acme", "HO-1", 1)}}, {"node-b", true, {record("globex", "HO-1", 2)}}});
  REQUIRE(merged.size() == 2);
  CHECK(merged[0].tenant.value == "acme");
  CHECK(merged[1].tenant.value == "globex");
}

TEST_CASE("a probe finds the member whose answer is not not_found, whatever its refusal") {
  auto loc = locate({{"node-a", true, handoff_codes::not_found}, {"node-b", true, ""}, {"node-c", true, handoff_codes::not_found}});
  CHECK(loc.what == location::kind::found);
  CHECK(loc.member == "node-b");
  // A closed record is still the member's: the action goes there and is refused there.
  loc = locate({{"node-a", true, handoff_codes::closed}, {"node-b", false, ""}});
  CHECK(loc.what == location::kind::found);
  CHECK(loc.member == "node-a");
}

TEST_CASE("a probe nobody answers positively is not_found, or unavailable when a member was silent") {
  CHECK(locate({{"node-a", true, handoff_codes::not_found}, {"node-b", true, handoff_codes::not_found}}).what
        == location::kind::not_found);
  CHECK(locate({{"node-a", true, handoff_codes::not_found}, {"node-b", false, ""}}).what
        == location::kind::unavailable);
  CHECK(locate({}).what == location::kind::not_found);
}

TEST_CASE("the location cache remembers per tenant, forgets a member's records when it leaves, and stays bounded") {
  location_cache c{3};
  c.remember(tenant_id{"acme"}, "HO-1", "node-b");
  c.remember(tenant_id{"acme"}, "HO-2", "node-c");
  c.remember(tenant_id{"globex"}, "HO-1", "node-c");
  REQUIRE(c.find(tenant_id{"acme"}, "HO-1"));
  CHECK(*c.find(tenant_id{"acme"}, "HO-1") == "node-b");
  CHECK(*c.find(tenant_id{"globex"}, "HO-1") == "node-c");
  CHECK(c.find(tenant_id{"acme"}, "HO-3") == nullptr);
  c.remember(tenant_id{"acme"}, "HO-1", "node-b");  // known: no growth
  CHECK(c.size() == 3);
  c.forget_member("node-c");
  CHECK(c.size() == 1);
  CHECK(c.find(tenant_id{"acme"}, "HO-2") == nullptr);
  c.remember(tenant_id{"acme"}, "HO-4", "node-a");
  c.remember(tenant_id{"acme"}, "HO-5", "node-a");
  c.remember(tenant_id{"acme"}, "HO-6", "node-a");  // past the bound: starts over
  CHECK(c.size() == 1);
  CHECK(*c.find(tenant_id{"acme"}, "HO-6") == "node-a");
}
