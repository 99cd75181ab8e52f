// The escalation policy with the shipped defaults (config/config.hpp escalation_config), for the policy tests.
#pragma once

#include "actors/escalation/escalation_policy.hpp"

#include <string>
#include <vector>

namespace sa::test {

inline const std::vector<std::string>& default_topics() {
  static const std::vector<std::string> topics{"legal",      "lawsuit",    "lawyer",     "refund",
                                               "cancel subscription", "competitor", "data breach"};
  return topics;
}

inline const escalation_policy& default_policy() {
  static const escalation_policy p{0.7, default_topics()};
  return p;
}

} // namespace sa::test
