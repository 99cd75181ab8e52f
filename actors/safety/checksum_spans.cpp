#include "actors/safety/checksum_spans.hpp"

#include <cctype>

namespace sa::safety {

namespace {

bool digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

bool capital(unsigned char c) {
  return c >= 'A' && c <= 'Z';
}

} // namespace

luhn_spans::luhn_spans(std::string_view text) : before_(text.size() + 1) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto next = before_[i];
    auto c = static_cast<unsigned char>(text[i]);
    if (digit(c)) {
      auto parity = next.digits % 2;
      uint32_t d = c - '0';
      next.plain[parity] += d;
      next.doubled[parity] += d * 2 > 9 ? d * 2 - 9 : d * 2;
      ++next.digits;
    }
    before_[i + 1] = next;
  }
}

bool luhn_spans::valid(std::size_t begin, std::size_t end) const {
  const auto& a = before_[begin];
  const auto& b = before_[end];
  auto n = b.digits - a.digits;
  if (n < 13 || n > 19)
    return false;
  // Luhn doubles every second digit from the right: those whose index has the other parity than the last's.
  auto last = (b.digits - 1) % 2;
  auto sum = (b.plain[last] - a.plain[last]) + (b.doubled[1 - last] - a.doubled[1 - last]);
  return sum % 10 == 0;
}

iban_spans::iban_spans(std::string_view text) : text_(text), before_(text.size() + 1) {
  pow10_.resize(2 * text.size() + 1);
  pow10_[0] = 1;
  for (std::size_t k = 1; k < pow10_.size(); ++k)
    pow10_[k] = static_cast<uint8_t>(pow10_[k - 1] * 10 % 97);
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto next = before_[i];
    if (text[i] != ' ') {
      auto c = static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(text[i])));
      ++next.chars;
      char_at_.push_back(i);
      if (digit(c)) {
        next.mod = (next.mod * 10 + (c - '0')) % 97;
        next.decimals += 1;
      } else if (capital(c)) {
        next.mod = (next.mod * 100 + (c - 'A' + 10)) % 97;
        next.decimals += 2;
      } else {
        ++next.bad;  // makes every span holding it invalid: what it reads as does not matter
      }
    }
    before_[i + 1] = next;
  }
}

uint32_t iban_spans::mod97(std::size_t begin, std::size_t end) const {
  const auto& a = before_[begin];
  const auto& b = before_[end];
  // prefix(end) = prefix(begin) * 10^(decimals between) + span, all mod 97.
  auto shifted = a.mod * pow10_[b.decimals - a.decimals] % 97;
  return (b.mod + 97 - shifted) % 97;
}

bool iban_spans::valid(std::size_t begin, std::size_t end) const {
  const auto& a = before_[begin];
  const auto& b = before_[end];
  auto n = b.chars - a.chars;
  if (n < 15 || n > 34 || b.bad != a.bad)
    return false;
  auto upper_at = [&](std::size_t k) {
    return static_cast<unsigned char>(std::toupper(static_cast<unsigned char>(text_[char_at_[a.chars + k]])));
  };
  if (!capital(upper_at(0)) || !capital(upper_at(1)) || !digit(upper_at(2)) || !digit(upper_at(3)))
    return false;  // country code, then check digits
  // The first four characters move to the end: rest, then those four.
  auto fifth = char_at_[a.chars + 3] + 1;
  auto head_decimals = before_[fifth].decimals - a.decimals;
  return (mod97(fifth, end) * pow10_[head_decimals] + mod97(begin, fifth)) % 97 == 1;
}

} // namespace sa::safety
