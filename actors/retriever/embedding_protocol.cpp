// embedding_protocol: OpenAI and Gemini embedding requests and answers (see embedding_protocol.hpp).
#include "actors/retriever/embedding_protocol.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace sa::knowledge {

namespace {

using json = nlohmann::json;

/// JSON text that never throws on bad UTF-8 in user text (replaced by U+FFFD).
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json gemini_content(const std::string& text) { return json{{"parts", json::array({json{{"text", text}}})}}; }

const char* gemini_task(embedding_purpose p) {
  return p == embedding_purpose::query ? "RETRIEVAL_QUERY" : "RETRIEVAL_DOCUMENT";
}

/// One vector from a JSON array of numbers, L2-normalised; fails naming `what`. Normalised in double after
/// scaling by the largest magnitude, so any finite values (even beyond float's range) give a unit vector.
result<std::vector<float>> read_vector(const json* values, const std::string& what) {
  if (values == nullptr || !values->is_array() || values->empty())
    return failure{what + ": expected a non-empty array of numbers"};
  std::vector<double> raw;
  raw.reserve(values->size());
  double largest = 0;
  for (const auto& x : *values) {
    if (!x.is_number())
      return failure{what + ": expected numbers only"};
    double d = x.get<double>();
    if (!std::isfinite(d))
      return failure{what + ": holds a value that is not finite"};
    largest = std::max(largest, std::fabs(d));
    raw.push_back(d);
  }
  if (!(largest > 0))
    return failure{what + ": is all zeros (cannot be normalised)"};
  double norm = 0;
  for (auto& d : raw) {
    d /= largest;
    norm += d * d;
  }
  const double inv = 1.0 / std::sqrt(norm);
  std::vector<float> v;
  v.reserve(raw.size());
  for (double d : raw)
    v.push_back(static_cast<float>(d * inv));
  return v;
}

const json* member(const json& j, const char* key) {
  if (!j.is_object())
    return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

} // namespace

std::string clip_embedding_input(std::string_view text) {
  if (text.size() <= max_embedding_input_bytes)
    return std::string(text);
  std::size_t cut = max_embedding_input_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut; // never split a UTF-8 sequence
  return std::string(text.substr(0, cut));
}

http_request embedding_http_request(const embedding_endpoint& ep, const std::vector<std::string>& texts,
                                    embedding_purpose purpose, std::chrono::milliseconds timeout,
                                    std::chrono::milliseconds connect_timeout) {
  http_request req;
  req.method = "POST";
  req.headers.emplace_back("Content-Type", "application/json");
  req.connect_timeout = connect_timeout;
  req.first_byte_timeout = timeout;
  req.idle_timeout = timeout;
  req.total_timeout = timeout;
  switch (ep.wire) {
    case embedding_wire::openai: {
      req.url = ep.base_url + "/v1/embeddings";
      if (!ep.api_key.empty())
        req.headers.emplace_back("Authorization", "Bearer " + ep.api_key);
      json input = json::array();
      for (const auto& t : texts)
        input.push_back(clip_embedding_input(t));
      req.body = dump(json{{"model", ep.model}, {"input", std::move(input)}, {"encoding_format", "float"}});
      break;
    }
    case embedding_wire::gemini: {
      if (!ep.api_key.empty())
        req.headers.emplace_back("x-goog-api-key", ep.api_key);
      const std::string model_path = "models/" + ep.model;
      if (texts.size() == 1) {
        req.url = ep.base_url + "/v1beta/" + model_path + ":embedContent";
        req.body = dump(json{{"model", model_path},
                             {"content", gemini_content(clip_embedding_input(texts.front()))},
                             {"taskType", gemini_task(purpose)}});
      } else {
        req.url = ep.base_url + "/v1beta/" + model_path + ":batchEmbedContents";
        json requests = json::array();
        for (const auto& t : texts)
          requests.push_back(json{{"model", model_path},
                                  {"content", gemini_content(clip_embedding_input(t))},
                                  {"taskType", gemini_task(purpose)}});
        req.body = dump(json{{"requests", std::move(requests)}});
      }
      break;
    }
  }
  return req;
}

namespace {

/// OpenAI's "usage": {"prompt_tokens": N, "total_tokens": N}; 0 when absent or not a count.
uint64_t reported_usage(const json& j) {
  const json* usage = member(j, "usage");
  if (usage == nullptr)
    return 0;
  for (const char* key : {"prompt_tokens", "total_tokens"})
    if (const json* n = member(*usage, key); n != nullptr && n->is_number_unsigned())
      return n->get<uint64_t>();
  return 0;
}

} // namespace

result<std::vector<std::vector<float>>> parse_embedding_response(embedding_wire wire, std::string_view body,
                                                                 std::size_t expected, uint64_t* tokens) {
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return failure{"embedding answer: not a JSON object"};
  if (tokens != nullptr)
    *tokens = reported_usage(j);
  std::vector<std::vector<float>> out;
  if (wire == embedding_wire::openai) {
    const json* data = member(j, "data");
    if (data == nullptr || !data->is_array())
      return failure{"embedding answer: no \"data\" array"};
    if (data->size() != expected)
      return failure{"embedding answer: " + std::to_string(data->size()) + " vectors for " + std::to_string(expected) +
                     " inputs"};
    out.resize(expected);
    std::vector<bool> seen(expected, false);
    for (std::size_t i = 0; i < data->size(); ++i) {
      const json& item = (*data)[i];
      // Each item names its input by "index"; the order of the array is not promised.
      std::size_t at = i;
      if (const json* index = member(item, "index"); index != nullptr) {
        if (!index->is_number_unsigned() || index->get<std::size_t>() >= expected)
          return failure{"embedding answer: data[" + std::to_string(i) + "].index is not an input position"};
        at = index->get<std::size_t>();
      }
      if (seen[at])
        return failure{"embedding answer: two vectors for input " + std::to_string(at)};
      seen[at] = true;
      auto v = read_vector(member(item, "embedding"), "embedding answer: data[" + std::to_string(i) + "].embedding");
      if (!v)
        return failure{v.error()};
      out[at] = std::move(*v);
    }
  } else {
    std::vector<const json*> values;
    if (const json* one = member(j, "embedding"); one != nullptr) {
      values.push_back(member(*one, "values"));
    } else if (const json* many = member(j, "embeddings"); many != nullptr && many->is_array()) {
      for (const auto& e : *many)
        values.push_back(member(e, "values"));
    } else {
      return failure{"embedding answer: neither \"embedding\" nor an \"embeddings\" array"};
    }
    if (values.size() != expected)
      return failure{"embedding answer: " + std::to_string(values.size()) + " vectors for " +
                     std::to_string(expected) + " inputs"};
    for (std::size_t i = 0; i < values.size(); ++i) {
      auto v = read_vector(values[i], "embedding answer: vector " + std::to_string(i));
      if (!v)
        return failure{v.error()};
      out.push_back(std::move(*v));
    }
  }
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].size() != out[0].size())
      return failure{"embedding answer: vectors of different lengths (" + std::to_string(out[0].size()) + " and " +
                     std::to_string(out[i].size()) + ")"};
  return out;
}

std::string embedding_error_message(int status, std::string_view body) {
  std::string message;
  auto j = json::parse(body.begin(), body.end(), nullptr, false);
  // OpenAI and Gemini both answer {"error": {"message": ...}}.
  if (const json* err = j.is_discarded() ? nullptr : member(j, "error"); err != nullptr) {
    if (const json* m = member(*err, "message"); m != nullptr && m->is_string())
      message = m->get<std::string>();
    else if (err->is_string())
      message = err->get<std::string>();
  }
  if (message.size() > 200) {
    std::size_t cut = 200;
    while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80)
      --cut;
    message = message.substr(0, cut) + "...";
  }
  for (auto& c : message)
    if (c == '\n' || c == '\r' || c == '"')
      c = ' ';
  return "HTTP " + std::to_string(status) + (message.empty() ? std::string() : ": " + message);
}

} // namespace sa::knowledge
