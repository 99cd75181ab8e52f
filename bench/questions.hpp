// The questions every bench asks: a rotating mix of billing, account and technical support traffic.
#pragma once

#include <cstddef>

namespace sa::bench {

inline constexpr const char* questions[] = {
  "How do I add a custom domain to my documentation?",
  "Why was I charged twice this month?",
  "How do I enable two factor authentication?",
  "My build fails with an out of memory error, what can I do?",
  "Where can I download my invoices?",
  "How do I invite a new member to my organization?",
  "Can I change the payment card on my subscription?",
  "How do I configure redirects for moved pages?",
  "What is the difference between the community and business plans?",
  "How do I set up single sign-on with Google Workspace?",
  "Search is not returning results for my project",
  "How can I hide an old version of my docs?",
};
inline constexpr std::size_t question_count = sizeof questions / sizeof *questions;

} // namespace sa::bench
