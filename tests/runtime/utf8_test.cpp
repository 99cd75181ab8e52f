// UTF-8 validation per RFC 3629: every sequence length, overlongs, surrogates, the U+10FFFF ceiling,
// truncation and stray continuation bytes.
#include "runtime/utf8.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::string_literals;

TEST_CASE("ASCII and the empty string are valid UTF-8", "[runtime][utf8]") {
  CHECK(sa::is_valid_utf8(""));
  CHECK(sa::is_valid_utf8("hello, world"));
  CHECK(sa::is_valid_utf8("\x01\x7f"));
  CHECK(sa::is_valid_utf8("a\0b"s));  // NUL is a valid code point
}

TEST_CASE("well-formed 2, 3 and 4 byte sequences are valid, including the boundaries",
          "[runtime][utf8]") {
  CHECK(sa::is_valid_utf8("caf\xC3\xA9"));             // é U+00E9
  CHECK(sa::is_valid_utf8("\xC2\x80"));                // U+0080, smallest 2-byte
  CHECK(sa::is_valid_utf8("\xDF\xBF"));                // U+07FF, largest 2-byte
  CHECK(sa::is_valid_utf8("\xE0\xA0\x80"));            // U+0800, smallest 3-byte
  CHECK(sa::is_valid_utf8("\xE2\x82\xAC"));            // € U+20AC
  CHECK(sa::is_valid_utf8("\xED\x9F\xBF"));            // U+D7FF, just below the surrogates
  CHECK(sa::is_valid_utf8("\xEE\x80\x80"));            // U+E000, just above the surrogates
  CHECK(sa::is_valid_utf8("\xEF\xBF\xBF"));            // U+FFFF
  CHECK(sa::is_valid_utf8("\xF0\x90\x80\x80"));        // U+10000, smallest 4-byte
  CHECK(sa::is_valid_utf8("\xF0\x9F\x98\x80"));        // 😀 U+1F600
  CHECK(sa::is_valid_utf8("\xF4\x8F\xBF\xBF"));        // U+10FFFF, the largest code point
  CHECK(sa::is_valid_utf8("日本語 and ünïcödé 😀 mixed"));
}

TEST_CASE("overlong encodings are invalid", "[runtime][utf8]") {
  CHECK_FALSE(sa::is_valid_utf8("\xC0\x80"));          // U+0000 in 2 bytes
  CHECK_FALSE(sa::is_valid_utf8("\xC1\xBF"));          // U+007F in 2 bytes
  CHECK_FALSE(sa::is_valid_utf8("\xC0\xAF"));          // '/' in 2 bytes
  CHECK_FALSE(sa::is_valid_utf8("\xE0\x80\x80"));      // U+0000 in 3 bytes
  CHECK_FALSE(sa::is_valid_utf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  CHECK_FALSE(sa::is_valid_utf8("\xF0\x80\x80\x80"));  // U+0000 in 4 bytes
  CHECK_FALSE(sa::is_valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST_CASE("UTF-16 surrogates are invalid", "[runtime][utf8]") {
  CHECK_FALSE(sa::is_valid_utf8("\xED\xA0\x80"));                  // U+D800
  CHECK_FALSE(sa::is_valid_utf8("\xED\xBF\xBF"));                  // U+DFFF
  CHECK_FALSE(sa::is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));      // a CESU-8 surrogate pair
}

TEST_CASE("code points above U+10FFFF are invalid", "[runtime][utf8]") {
  CHECK_FALSE(sa::is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(sa::is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(sa::is_valid_utf8("\xF7\xBF\xBF\xBF"));
  CHECK_FALSE(sa::is_valid_utf8("\xF8\x88\x80\x80\x80"));  // old 5-byte form
  CHECK_FALSE(sa::is_valid_utf8("\xFC\x84\x80\x80\x80\x80"));  // old 6-byte form
  CHECK_FALSE(sa::is_valid_utf8("\xFE"));
  CHECK_FALSE(sa::is_valid_utf8("\xFF"));
}

TEST_CASE("truncated sequences are invalid, at the end or in the middle", "[runtime][utf8]") {
  CHECK_FALSE(sa::is_valid_utf8("\xC3"));
  CHECK_FALSE(sa::is_valid_utf8("\xE2\x82"));
  CHECK_FALSE(sa::is_valid_utf8("\xE2"));
  CHECK_FALSE(sa::is_valid_utf8("\xF0\x9F\x98"));
  CHECK_FALSE(sa::is_valid_utf8("\xF0\x9F"));
  CHECK_FALSE(sa::is_valid_utf8("abc\xF0"));
  CHECK_FALSE(sa::is_valid_utf8("\xC3x"));               // a lead byte followed by ASCII
  CHECK_FALSE(sa::is_valid_utf8("\xE2\x82x and more"));
  CHECK_FALSE(sa::is_valid_utf8("\xF0\x9F\x98 \x80"));
  // A valid string cut anywhere inside its last character is invalid.
  const std::string smile = "ok \xF0\x9F\x98\x80";
  for (std::size_t n = 4; n < smile.size(); ++n) {
    INFO("prefix length " << n);
    CHECK_FALSE(sa::is_valid_utf8(std::string_view(smile).substr(0, n)));
  }
  CHECK(sa::is_valid_utf8(smile));
}

TEST_CASE("lone continuation bytes are invalid", "[runtime][utf8]") {
  CHECK_FALSE(sa::is_valid_utf8("\x80"));
  CHECK_FALSE(sa::is_valid_utf8("\xBF"));
  CHECK_FALSE(sa::is_valid_utf8("a\x80z"));
  CHECK_FALSE(sa::is_valid_utf8("\xC3\xA9\xA9"));        // one continuation byte too many
  CHECK_FALSE(sa::is_valid_utf8("\xE2\x82\xAC\x80"));
}

TEST_CASE("every single byte is valid alone exactly when it is ASCII", "[runtime][utf8]") {
  for (int b = 0; b < 256; ++b) {
    INFO("byte " << b);
    const char c = static_cast<char>(b);
    CHECK(sa::is_valid_utf8(std::string_view(&c, 1)) == (b < 0x80));
  }
}

TEST_CASE("only the given length is examined, not the bytes after it", "[runtime][utf8]") {
  const char buf[] = {'o', 'k', '\xC3', '\xA9'};
  CHECK(sa::is_valid_utf8(std::string_view(buf, 2)));
  CHECK_FALSE(sa::is_valid_utf8(std::string_view(buf, 3)));
  CHECK(sa::is_valid_utf8(std::string_view(buf, 4)));
}
