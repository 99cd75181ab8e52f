// Shared by the provider tests: the doc's example streams, byte for byte, and a harness that feeds a
// stream to a decoder whole, byte by byte or in random pieces and records what came out.
#pragma once

#include "actors/providers/stream_decoder.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace sa::providers::testing {

// docs/llm-provider-protocols.md, "OpenAI Chat Completions", streamed answer.
inline const std::string openai_stream =
  "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1732450000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n"
  "\n"
  "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1732450000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"You were\"},\"finish_reason\":null}]}\n"
  "\n"
  "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1732450000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n"
  "\n"
  "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1732450000,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":812,\"completion_tokens\":96,\"total_tokens\":908}}\n"
  "\n"
  "data: [DONE]\n"
  "\n";

// docs/llm-provider-protocols.md, "Anthropic Messages", streamed answer.
inline const std::string anthropic_stream =
  "event: message_start\n"
  "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":812,\"output_tokens\":1}}}\n"
  "\n"
  "event: content_block_start\n"
  "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n"
  "\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"The customer has\"}}\n"
  "\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB...\"}}\n"
  "\n"
  "event: content_block_stop\n"
  "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
  "\n"
  "event: content_block_start\n"
  "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n"
  "\n"
  "event: ping\n"
  "data: {\"type\":\"ping\"}\n"
  "\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"You were charged\"}}\n"
  "\n"
  "event: content_block_stop\n"
  "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
  "\n"
  "event: message_delta\n"
  "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":240}}\n"
  "\n"
  "event: message_stop\n"
  "data: {\"type\":\"message_stop\"}\n"
  "\n";

// docs/llm-provider-protocols.md, "Google Gemini": the doc's answer object as the last chunk, after a
// first text chunk, with the \r\n line ends Gemini sends.
inline const std::string gemini_first_chunk =
  R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hello. "}]},"index":0}],"usageMetadata":{"promptTokenCount":812,"totalTokenCount":812},"modelVersion":"gemini-2.5-flash"})";
inline const std::string gemini_last_chunk =
  R"({"candidates":[{"content":{"role":"model","parts":[{"text":"You were charged twice because"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":812,"candidatesTokenCount":96,"totalTokenCount":908,"thoughtsTokenCount":0},"modelVersion":"gemini-2.5-flash"})";
inline const std::string gemini_stream =
  "data: " + gemini_first_chunk + "\r\n\r\n" + "data: " + gemini_last_chunk + "\r\n\r\n";

/// Everything a decoder emitted for one stream.
struct outcome {
  std::vector<stream_delta> deltas;
  std::optional<stream_end> end;
  std::optional<provider_error> error;
  int terminals = 0;
  bool events_after_terminal = false;

  std::string text(bool thinking = false) const {
    std::string s;
    for (const auto& d : deltas)
      if (d.thinking == thinking)
        s += d.text;
    return s;
  }
};

using decoder_factory = std::function<std::unique_ptr<stream_decoder>()>;

/// Feeds `stream` cut at `cuts` (ascending offsets), then finish().
inline outcome run(const decoder_factory& make, std::string_view stream, const std::vector<std::size_t>& cuts) {
  outcome o;
  auto dec = make();
  auto sink = [&o](const stream_event& ev) {
    if (o.terminals > 0)
      o.events_after_terminal = true;
    if (auto* d = std::get_if<stream_delta>(&ev)) {
      o.deltas.push_back(*d);
    } else if (auto* e = std::get_if<stream_end>(&ev)) {
      o.end = *e;
      ++o.terminals;
    } else {
      o.error = std::get<provider_error>(ev);
      ++o.terminals;
    }
  };
  std::size_t pos = 0;
  for (auto cut : cuts) {
    dec->feed(stream.substr(pos, cut - pos), sink);
    pos = cut;
  }
  dec->feed(stream.substr(pos), sink);
  dec->finish(sink);
  return o;
}

inline outcome run_whole(const decoder_factory& make, std::string_view stream) { return run(make, stream, {}); }

inline outcome run_bytewise(const decoder_factory& make, std::string_view stream) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i)
    cuts.push_back(i);
  return run(make, stream, cuts);
}

/// `count` runs, each cutting the stream at 1..32 random places (fixed seed), passed to `check`.
inline void run_random(const decoder_factory& make, std::string_view stream, int count,
                       const std::function<void(const outcome&)>& check) {
  std::mt19937 rng(20240601);
  for (int i = 0; i < count; ++i) {
    std::uniform_int_distribution<std::size_t> ncuts(1, 32), where(0, stream.size());
    std::vector<std::size_t> cuts(ncuts(rng));
    for (auto& c : cuts)
      c = where(rng);
    std::sort(cuts.begin(), cuts.end());
    check(run(make, stream, cuts));
  }
}

inline bool same_deltas(const outcome& a, const outcome& b) {
  if (a.deltas.size() != b.deltas.size())
    return false;
  for (std::size_t i = 0; i < a.deltas.size(); ++i)
    if (a.deltas[i].text != b.deltas[i].text || a.deltas[i].thinking != b.deltas[i].thinking)
      return false;
  return true;
}

inline bool same_end(const outcome& a, const outcome& b) {
  if (!a.end || !b.end)
    return false;
  const auto& x = *a.end;
  const auto& y = *b.end;
  return x.finish_reason == y.finish_reason && x.finish == y.finish && x.tokens.prompt_tokens == y.tokens.prompt_tokens
         && x.tokens.completion_tokens == y.tokens.completion_tokens
         && x.tokens.thinking_tokens == y.tokens.thinking_tokens && x.tokens.reported == y.tokens.reported;
}

} // namespace sa::providers::testing
