// intent_model: fastText supervised classifier + temperature scaling (see intent_model.hpp).
//
// Thread safety: predict() only calls const fastText 0.9.2 paths. FastText::predict(k, words, ...)
// const builds its own Model::State (scratch vectors and rng) per call and Model/Loss::predict and
// Dictionary::getLine(in, words, labels) are const and touch no shared mutable state, so concurrent
// predictions on one loaded model need no lock. save() is serialised by a mutex (it writes fixed
// temporary file names).
#include "actors/classifier/intent_model.hpp"

#include "runtime/utf8.hpp"

#include "runtime/utf8.hpp"

#include <fasttext/fasttext.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace sa::classifier {

namespace {

namespace fs = std::filesystem;

constexpr int meta_format_version = 1;
constexpr int normalization_version = 1;
constexpr const char* label_prefix = "__label__";
constexpr double oos_confidence_cap = 0.3;
constexpr double min_temperature = 0.25;
constexpr double max_temperature = 16.0;
constexpr std::size_t label_count = 6;

// --- text normalisation ---------------------------------------------------------------------------

char32_t to_lower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;                 // Latin-1
  if ((cp >= 0x100 && cp <= 0x12F) || (cp >= 0x132 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177))
    return (cp % 2 == 0) ? cp + 1 : cp;                                          // Latin Ext-A
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
    return (cp % 2 == 1) ? cp + 1 : cp;
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 32;               // Greek
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;                               // Cyrillic
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

bool is_space(char32_t cp) {
  return cp <= 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0xA0 || cp == 0x1680
         || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
         || cp == 0x205F || cp == 0x3000;
}

bool is_dropped(char32_t cp) {
  // apostrophes ("don't" == "dont"), zero-width characters, byte order mark, soft hyphen
  return cp == '\'' || cp == 0x2018 || cp == 0x2019 || cp == 0x02BC || cp == 0xAD
         || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

bool is_punct(char32_t cp) {
  if (cp < 0x80) return std::ispunct(static_cast<int>(cp)) != 0;  // includes '_': no "__label__"
  return (cp >= 0xA1 && cp <= 0xBF && cp != 0xAA && cp != 0xB5 && cp != 0xBA)
         || (cp >= 0x2010 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E)
         || (cp >= 0x3001 && cp <= 0x3003) || (cp >= 0xFF01 && cp <= 0xFF0F);
}

char32_t canonical_punct(char32_t cp) {
  switch (cp) {
    case 0x201C: case 0x201D: case 0x201E: case 0xAB: case 0xBB: return '"';
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: return '-';
    case 0x2026: return '.';
    case 0xFF01: return '!';
    case 0xFF0C: case 0x3001: return ',';
    case 0x3002: return '.';
    default: return cp;
  }
}

// --- small helpers --------------------------------------------------------------------------------

std::uint64_t fnv1a64(std::uint64_t h, const char* data, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;

std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Size and FNV-1a-64 of a file, streamed.
bool file_digest(const std::string& path, std::uint64_t& size, std::uint64_t& digest) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<char> buf(1 << 16);
  size = 0;
  digest = fnv_offset;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    digest = fnv1a64(digest, buf.data(), n);
    size += n;
  }
  return !in.bad();
}

bool fsync_path(const std::string& path, bool directory = false) {
  int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

int label_index(std::string_view label) {
  const auto& ls = intent_model::labels();
  for (std::size_t i = 0; i < ls.size(); ++i)
    if (ls[i] == label) return static_cast<int>(i);
  return -1;
}

std::string label_list() {
  std::string out;
  for (const auto& l : intent_model::labels()) {
    if (!out.empty()) out += ", ";
    out += l;
  }
  return out;
}

using label_scores = std::array<double, label_count>;

/// Softmax of log-probabilities divided by t: p_i^(1/t) renormalised.
label_scores calibrate(const label_scores& logp, double t) {
  label_scores out{};
  double mx = -std::numeric_limits<double>::infinity();
  for (double v : logp) mx = std::max(mx, v / t);
  double sum = 0;
  for (std::size_t i = 0; i < label_count; ++i) {
    out[i] = std::exp(logp[i] / t - mx);
    sum += out[i];
  }
  for (auto& v : out) v /= sum;
  return out;
}

std::size_t argmax(const label_scores& s) {
  return static_cast<std::size_t>(std::max_element(s.begin(), s.end()) - s.begin());
}

/// Mean negative log-likelihood of the true labels at temperature t.
double nll(const std::vector<label_scores>& logps, const std::vector<std::size_t>& truth, double t) {
  double total = 0;
  for (std::size_t i = 0; i < logps.size(); ++i) {
    const auto& z = logps[i];
    double mx = -std::numeric_limits<double>::infinity();
    for (double v : z) mx = std::max(mx, v / t);
    double sum = 0;
    for (double v : z) sum += std::exp(v / t - mx);
    total += (mx + std::log(sum)) - z[truth[i]] / t;
  }
  return total / static_cast<double>(logps.size());
}

/// Golden-section search for the temperature in [min_temperature, max_temperature] minimising NLL,
/// over log t (NLL is convex in 1/t, hence unimodal in log t).
double fit_temperature(const std::vector<label_scores>& logps, const std::vector<std::size_t>& truth) {
  if (logps.empty()) return 1.0;
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(min_temperature), b = std::log(max_temperature);
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = nll(logps, truth, std::exp(c)), fd = nll(logps, truth, std::exp(d));
  for (int it = 0; it < 80 && b - a > 1e-6; ++it) {
    if (fc < fd) {
      b = d; d = c; fd = fc;
      c = b - phi * (b - a);
      fc = nll(logps, truth, std::exp(c));
    } else {
      a = c; c = d; fc = fd;
      d = a + phi * (b - a);
      fd = nll(logps, truth, std::exp(d));
    }
  }
  return std::exp((a + b) / 2);
}

/// Expected calibration error over 10 equal-width confidence bins.
double expected_calibration_error(const std::vector<double>& conf, const std::vector<bool>& correct) {
  if (conf.empty()) return 0;
  std::array<double, 10> conf_sum{}, acc_sum{};
  std::array<std::size_t, 10> count{};
  for (std::size_t i = 0; i < conf.size(); ++i) {
    auto bin = std::min<std::size_t>(9, static_cast<std::size_t>(conf[i] * 10));
    conf_sum[bin] += conf[i];
    acc_sum[bin] += correct[i] ? 1 : 0;
    ++count[bin];
  }
  double ece = 0;
  for (std::size_t b = 0; b < 10; ++b)
    if (count[b] > 0)
      ece += std::abs(acc_sum[b] - conf_sum[b]) / static_cast<double>(conf.size());
  return ece;
}

/// A temporary file removed on scope exit.
struct temp_file {
  std::string path;
  temp_file() {
    auto tmpl = (fs::temp_directory_path() / "sa-intent-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = ::mkstemp(buf.data());
    if (fd >= 0) {
      ::close(fd);
      path = buf.data();
    }
  }
  ~temp_file() {
    if (!path.empty()) std::remove(path.c_str());
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

} // namespace

// --- impl -----------------------------------------------------------------------------------------

struct intent_model::impl {
  std::unique_ptr<fasttext::FastText> ft;
  std::shared_ptr<const fasttext::Dictionary> dict;
  std::vector<int> ft_to_ours;  ///< fastText label id -> index in labels()
  double temperature = 1;
  training_report report;
  training_options options;
  mutable std::mutex save_mutex;

  /// Binds the dictionary and the label mapping; fails when the model's labels are not ours.
  std::string bind() {
    dict = ft->getDictionary();
    if (ft->getArgs().model != fasttext::model_name::sup) return "not a supervised fastText model";
    ft_to_ours.assign(static_cast<std::size_t>(dict->nlabels()), -1);
    std::vector<bool> seen(label_count, false);
    for (int32_t i = 0; i < dict->nlabels(); ++i) {
      auto name = dict->getLabel(i);
      if (name.rfind(label_prefix, 0) == 0) name.erase(0, std::strlen(label_prefix));
      int idx = label_index(name);
      if (idx < 0) return "unknown label '" + name + "' in model";
      ft_to_ours[static_cast<std::size_t>(i)] = idx;
      seen[static_cast<std::size_t>(idx)] = true;
    }
    for (std::size_t i = 0; i < label_count; ++i)
      if (!seen[i]) return "model lacks label '" + intent_model::labels()[i] + "'";
    return {};
  }

  /// Uncalibrated log-probabilities (fastText's log(p + 1e-5)) of every label, in labels() order.
  /// `normalized` must be non-empty output of normalize_text().
  label_scores log_probs(const std::string& normalized) const {
    std::istringstream in(normalized + "\n");  // training lines end in newline (the </s> token)
    std::vector<int32_t> words, labels;
    dict->getLine(in, words, labels);
    label_scores out;
    out.fill(std::log(1e-5));
    if (words.empty()) return out;
    fasttext::Predictions preds;
    ft->predict(-1, words, preds, 0.0);
    for (const auto& [logp, id] : preds)
      if (id >= 0 && static_cast<std::size_t>(id) < ft_to_ours.size())
        out[static_cast<std::size_t>(ft_to_ours[static_cast<std::size_t>(id)])] = logp;
    return out;
  }
};

// --- normalisation --------------------------------------------------------------------------------

std::string normalize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  bool pending_space = false;
  auto emit_space = [&] { pending_space = !out.empty(); };
  auto emit = [&](char32_t cp) {
    if (pending_space) out += ' ';
    pending_space = false;
    utf8_append(out, cp);
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    std::size_t n = utf8_decode(text, i, cp);
    if (n == 0) {  // invalid byte: dropped, acts as a separator
      emit_space();
      ++i;
      continue;
    }
    i += n;
    if (is_dropped(cp)) continue;
    if (is_space(cp)) { emit_space(); continue; }
    if (is_punct(cp)) {
      emit_space();
      emit(canonical_punct(cp));
      emit_space();
      continue;
    }
    emit(to_lower(cp));
  }
  return out;
}

// --- CSV ------------------------------------------------------------------------------------------

result<std::vector<labeled_example>> read_labeled_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure{path + ": cannot open labeled CSV (" + std::strerror(errno) + ")"};
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return failure{path + ": read error"};
  std::size_t pos = 0;
  if (data.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;  // UTF-8 byte order mark

  std::size_t line = 1;
  auto where = [&](std::size_t l) { return path + ":" + std::to_string(l) + ": "; };

  // Reads one record starting at pos; returns false at end of input. Fields in `fields`.
  std::string err;
  auto read_record = [&](std::vector<std::string>& fields, std::size_t& record_line) -> bool {
    fields.clear();
    record_line = line;
    if (pos >= data.size()) return false;
    std::string field;
    bool quoted = false, after_quote = false;
    while (true) {
      if (pos >= data.size()) {
        if (quoted) {
          err = where(record_line) + "unterminated quoted field";
          return false;
        }
        fields.push_back(std::move(field));
        return true;
      }
      char c = data[pos];
      if (quoted) {
        if (c == '"') {
          if (pos + 1 < data.size() && data[pos + 1] == '"') {
            field += '"';
            pos += 2;
          } else {
            quoted = false;
            after_quote = true;
            ++pos;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
          ++pos;
        }
        continue;
      }
      if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
        after_quote = false;
        ++pos;
      } else if (c == '\r' || c == '\n') {
        if (c == '\r' && pos + 1 < data.size() && data[pos + 1] == '\n') ++pos;
        ++pos;
        ++line;
        fields.push_back(std::move(field));
        return true;
      } else if (c == '"' && field.empty() && !after_quote) {
        quoted = true;
        ++pos;
      } else if (after_quote) {
        err = where(line) + "unexpected character after closing quote";
        return false;
      } else if (c == '"') {
        err = where(line) + "quote inside an unquoted field (quote the field and double the quote)";
        return false;
      } else {
        field += c;
        ++pos;
      }
    }
  };

  std::vector<std::string> fields;
  std::size_t record_line = 0;
  if (!read_record(fields, record_line)) {
    if (!err.empty()) return failure{err};
    return failure{where(1) + "empty file (expected a header with 'text' and 'intent')"};
  }
  int text_col = -1, intent_col = -1;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto name = trim(fields[i]);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (name == "text" && text_col < 0) text_col = static_cast<int>(i);
    if (name == "intent" && intent_col < 0) intent_col = static_cast<int>(i);
  }
  if (text_col < 0 || intent_col < 0)
    return failure{where(record_line) + "header lacks column '" + (text_col < 0 ? "text" : "intent")
                   + "'"};
  auto needed = static_cast<std::size_t>(std::max(text_col, intent_col)) + 1;

  std::vector<labeled_example> out;
  while (read_record(fields, record_line)) {
    if (fields.size() == 1 && trim(fields[0]).empty()) continue;  // blank line
    if (fields.size() < needed)
      return failure{where(record_line) + "expected at least " + std::to_string(needed)
                     + " fields, found " + std::to_string(fields.size())};
    auto& text = fields[static_cast<std::size_t>(text_col)];
    auto label = trim(fields[static_cast<std::size_t>(intent_col)]);
    if (!sa::is_valid_utf8(text)) return failure{where(record_line) + "text is not valid UTF-8"};
    if (normalize_text(text).empty()) return failure{where(record_line) + "empty text"};
    if (label.empty()) return failure{where(record_line) + "empty intent"};
    if (label_index(label) < 0)
      return failure{where(record_line) + "unknown intent '" + label + "' (expected one of "
                     + label_list() + ")"};
    out.push_back({std::move(text), std::move(label)});
  }
  if (!err.empty()) return failure{err};
  return out;
}

// --- intent_model ---------------------------------------------------------------------------------

const std::vector<std::string>& intent_model::labels() {
  static const std::vector<std::string> ls{"billing", "technical", "account", "general",
                                           "escalation_request", "out_of_scope"};
  return ls;
}

intent_model::intent_model(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
intent_model::~intent_model() = default;

const training_report& intent_model::report() const { return impl_->report; }

namespace {

std::string check_options(const training_options& o) {
  if (o.epochs < 1) return "epochs must be >= 1";
  if (!(o.learning_rate > 0)) return "learning_rate must be > 0";
  if (o.word_ngrams < 1) return "word_ngrams must be >= 1";
  if (!(o.holdout_share >= 0 && o.holdout_share < 1)) return "holdout_share must be in [0, 1)";
  if (o.dim < 1) return "dim must be >= 1";
  if (o.minn < 0 || o.maxn < 0 || (o.maxn > 0 && o.minn > o.maxn) || (o.maxn > 0 && o.minn == 0))
    return "minn/maxn must be 0/0 or 1 <= minn <= maxn";
  if (o.bucket < 0 || (o.bucket == 0 && (o.word_ngrams > 1 || o.maxn > 0)))
    return "bucket must be > 0 with word n-grams or subwords";
  return {};
}

/// Trains a fastText model on (normalised text, label index) pairs.
result<std::unique_ptr<fasttext::FastText>>
train_fasttext(const std::vector<std::pair<std::string, std::size_t>>& data,
               const training_options& o) {
  temp_file tmp;
  if (tmp.path.empty()) return failure{"intent model training: cannot create a temporary file"};
  {
    std::ofstream out(tmp.path, std::ios::binary | std::ios::trunc);
    for (const auto& [text, label] : data)
      out << label_prefix << intent_model::labels()[label] << ' ' << text << '\n';
    if (!out.flush())
      return failure{"intent model training: cannot write " + tmp.path};
  }
  fasttext::Args args;
  args.input = tmp.path;
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.minCount = 1;
  args.minCountLabel = 0;
  args.epoch = o.epochs;
  args.lr = o.learning_rate;
  args.wordNgrams = o.word_ngrams;
  args.dim = o.dim;
  args.minn = o.maxn > 0 ? o.minn : 0;
  args.maxn = o.maxn;
  args.bucket = (o.word_ngrams > 1 || o.maxn > 0) ? o.bucket : 0;
  args.thread = 1;
  args.seed = o.seed;
  args.verbose = 0;
  auto ft = std::make_unique<fasttext::FastText>();
  try {
    ft->train(args);
  } catch (const std::exception& e) {
    return failure{std::string("intent model training failed in fastText: ") + e.what()};
  } catch (...) {
    return failure{"intent model training failed in fastText (unknown exception)"};
  }
  return ft;
}

} // namespace

result<std::shared_ptr<const intent_model>>
intent_model::train(const std::vector<labeled_example>& examples, const training_options& opts,
                    training_report* report) {
  if (auto e = check_options(opts); !e.empty()) return failure{"intent model training: " + e};
  std::vector<std::pair<std::string, std::size_t>> data;
  data.reserve(examples.size());
  std::array<std::vector<std::size_t>, label_count> by_label;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    int idx = label_index(examples[i].label);
    if (idx < 0)
      return failure{"intent model training: example " + std::to_string(i + 1) + " has unknown label '"
                     + examples[i].label + "' (expected one of " + label_list() + ")"};
    auto text = normalize_text(examples[i].text);
    if (text.empty())
      return failure{"intent model training: example " + std::to_string(i + 1) + " has empty text"};
    by_label[static_cast<std::size_t>(idx)].push_back(data.size());
    data.emplace_back(std::move(text), static_cast<std::size_t>(idx));
  }
  for (std::size_t l = 0; l < label_count; ++l)
    if (by_label[l].empty())
      return failure{"intent model training: no example for label '" + labels()[l] + "'"};

  // Stratified holdout: per label, a seeded Fisher-Yates shuffle (own loop, so the split is the same
  // with every standard library), round(n * share) held out, at least one left for training.
  std::mt19937_64 rng(static_cast<std::uint64_t>(opts.seed));
  std::vector<bool> held(data.size(), false);
  std::size_t n_holdout = 0;
  for (auto& idxs : by_label) {
    for (std::size_t i = idxs.size(); i > 1; --i) std::swap(idxs[i - 1], idxs[rng() % i]);
    auto k = static_cast<std::size_t>(std::llround(static_cast<double>(idxs.size()) * opts.holdout_share));
    k = std::min(k, idxs.size() - 1);
    for (std::size_t i = 0; i < k; ++i) held[idxs[i]] = true;
    n_holdout += k;
  }

  training_report rep;
  rep.examples = data.size();
  rep.holdout = n_holdout;
  rep.temperature = 1;
  if (n_holdout > 0) {
    std::vector<std::pair<std::string, std::size_t>> train_part;
    std::vector<std::size_t> hold_idx;
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (held[i]) hold_idx.push_back(i);
      else train_part.push_back(data[i]);
    }
    auto ft = train_fasttext(train_part, opts);
    if (!ft) return failure{ft.error()};
    impl probe;
    probe.ft = std::move(*ft);
    if (auto e = probe.bind(); !e.empty()) return failure{"intent model training: " + e};
    std::vector<label_scores> logps;
    std::vector<std::size_t> truth;
    for (auto i : hold_idx) {
      logps.push_back(probe.log_probs(data[i].first));
      truth.push_back(data[i].second);
    }
    rep.temperature = fit_temperature(logps, truth);
    std::vector<double> conf;
    std::vector<bool> correct;
    std::size_t hits = 0;
    for (std::size_t i = 0; i < logps.size(); ++i) {
      auto p = calibrate(logps[i], rep.temperature);
      auto top = argmax(p);
      conf.push_back(p[top]);
      correct.push_back(top == truth[i]);
      hits += top == truth[i] ? 1 : 0;
    }
    rep.holdout_accuracy = static_cast<double>(hits) / static_cast<double>(logps.size());
    rep.holdout_ece = expected_calibration_error(conf, correct);
  }

  auto ft = train_fasttext(data, opts);
  if (!ft) return failure{ft.error()};
  auto p = std::make_unique<impl>();
  p->ft = std::move(*ft);
  if (auto e = p->bind(); !e.empty()) return failure{"intent model training: " + e};
  p->temperature = rep.temperature;
  p->report = rep;
  p->options = opts;
  if (report) *report = rep;
  return std::shared_ptr<const intent_model>(new intent_model(std::move(p)));
}

prediction intent_model::predict(std::string_view text, double min_confidence) const {
  prediction out;
  out.intent = "general";
  auto norm = normalize_text(text);
  if (norm.empty()) return out;  // general, confidence 0, nothing ranked
  auto p = calibrate(impl_->log_probs(norm), impl_->temperature);
  const auto& ls = labels();
  std::array<std::size_t, label_count> order;
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] > p[b]; });
  out.ranked.reserve(label_count);
  for (auto i : order) out.ranked.emplace_back(ls[i], p[i]);
  const auto oos = static_cast<std::size_t>(label_index("out_of_scope"));
  if (order[0] == oos) {
    out.out_of_scope = true;
    out.confidence = std::min(p[order[1]], oos_confidence_cap);  // best product label, capped
    return out;
  }
  out.confidence = p[order[0]];
  if (out.confidence >= min_confidence) out.intent = ls[order[0]];
  return out;
}

// --- persistence ----------------------------------------------------------------------------------

status intent_model::save(const std::string& path) const {
  std::lock_guard<std::mutex> guard(impl_->save_mutex);
  const std::string tmp = path + ".tmp";
  const std::string meta = path + ".meta.json";
  const std::string meta_tmp = meta + ".tmp";
  auto fail = [&](const std::string& what) {
    std::remove(tmp.c_str());
    std::remove(meta_tmp.c_str());
    return failure{"intent model " + path + ": " + what};
  };
  try {
    auto dir = fs::path(path).parent_path();
    if (!dir.empty()) fs::create_directories(dir);
    impl_->ft->saveModel(tmp);
  } catch (const std::exception& e) {
    return fail(std::string("cannot write model: ") + e.what());
  }
  if (!fsync_path(tmp)) return fail("cannot sync " + tmp);
  std::uint64_t size = 0, digest = 0;
  if (!file_digest(tmp, size, digest)) return fail("cannot read back " + tmp);

  const auto& r = impl_->report;
  const auto& o = impl_->options;
  nlohmann::json j = {
    {"format", "sa-intent-model"},
    {"format_version", meta_format_version},
    {"normalization_version", normalization_version},
    {"labels", labels()},
    {"temperature", impl_->temperature},
    {"model_file", {{"bytes", size}, {"fnv1a64", hex64(digest)}}},
    {"training_report",
     {{"examples", r.examples}, {"holdout", r.holdout}, {"holdout_accuracy", r.holdout_accuracy},
      {"temperature", r.temperature}, {"holdout_ece", r.holdout_ece}}},
    {"training_options",
     {{"epochs", o.epochs}, {"learning_rate", o.learning_rate}, {"word_ngrams", o.word_ngrams},
      {"seed", o.seed}, {"holdout_share", o.holdout_share}, {"dim", o.dim}, {"minn", o.minn},
      {"maxn", o.maxn}, {"bucket", o.bucket}}},
  };
  {
    std::ofstream out(meta_tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << '\n';
    if (!out.flush()) return fail("cannot write " + meta_tmp);
  }
  if (!fsync_path(meta_tmp)) return fail("cannot sync " + meta_tmp);
  // Model first, then metadata: a crash in between leaves a model whose checksum does not match the
  // old metadata, which load() rejects, never a silently mismatched pair.
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return fail("cannot rename " + tmp + " (" + std::strerror(errno) + ")");
  if (std::rename(meta_tmp.c_str(), meta.c_str()) != 0)
    return fail("cannot rename " + meta_tmp + " (" + std::strerror(errno) + ")");
  auto dir = fs::path(path).parent_path();
  fsync_path(dir.empty() ? "." : dir.string(), true);
  return {};
}

result<std::shared_ptr<const intent_model>> intent_model::load(const std::string& path) {
  const std::string meta = path + ".meta.json";
  auto fail = [&](const std::string& what) { return failure{"intent model " + path + ": " + what}; };

  std::error_code ec;
  if (!fs::exists(path, ec)) return fail("model file is missing");
  if (!fs::exists(meta, ec)) return fail("metadata file " + meta + " is missing (save() writes both)");
  nlohmann::json j;
  {
    std::ifstream in(meta, std::ios::binary);
    if (!in) return fail("cannot open metadata file " + meta);
    j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return fail("metadata file " + meta + " is not valid JSON");
  }
  auto p = std::make_unique<impl>();
  std::uint64_t want_size = 0;
  std::string want_digest;
  try {
    if (j.value("format", "") != "sa-intent-model") return fail(meta + " is not intent model metadata");
    int version = j.at("format_version").get<int>();
    if (version != meta_format_version)
      return fail(meta + " has format version " + std::to_string(version) + ", expected "
                  + std::to_string(meta_format_version));
    if (j.value("normalization_version", 0) != normalization_version)
      return fail(meta + " was trained with another text normalisation; retrain the model");
    if (j.at("labels").get<std::vector<std::string>>() != labels())
      return fail(meta + " lists other labels than " + label_list());
    p->temperature = j.at("temperature").get<double>();
    if (!(std::isfinite(p->temperature) && p->temperature > 0))
      return fail(meta + " has an invalid temperature");
    want_size = j.at("model_file").at("bytes").get<std::uint64_t>();
    want_digest = j.at("model_file").at("fnv1a64").get<std::string>();
    const auto& r = j.at("training_report");
    p->report.examples = r.value("examples", std::size_t{0});
    p->report.holdout = r.value("holdout", std::size_t{0});
    p->report.holdout_accuracy = r.value("holdout_accuracy", 0.0);
    p->report.temperature = p->temperature;
    p->report.holdout_ece = r.value("holdout_ece", 0.0);
    if (auto o = j.find("training_options"); o != j.end() && o->is_object()) {
      p->options.epochs = o->value("epochs", p->options.epochs);
      p->options.learning_rate = o->value("learning_rate", p->options.learning_rate);
      p->options.word_ngrams = o->value("word_ngrams", p->options.word_ngrams);
      p->options.seed = o->value("seed", p->options.seed);
      p->options.holdout_share = o->value("holdout_share", p->options.holdout_share);
      p->options.dim = o->value("dim", p->options.dim);
      p->options.minn = o->value("minn", p->options.minn);
      p->options.maxn = o->value("maxn", p->options.maxn);
      p->options.bucket = o->value("bucket", p->options.bucket);
    }
  } catch (const std::exception& e) {
    return fail(meta + " is malformed: " + e.what());
  }

  // Verify before fastText sees the file: fastText trusts sizes read from the file and can abort or
  // allocate without bound on corrupt input.
  std::uint64_t size = 0, digest = 0;
  if (!file_digest(path, size, digest)) return fail("cannot read model file");
  if (size != want_size)
    return fail("model file is truncated or modified (" + std::to_string(size) + " bytes, metadata says "
                + std::to_string(want_size) + ")");
  if (hex64(digest) != want_digest)
    return fail("model file is corrupt (checksum " + hex64(digest) + ", metadata says " + want_digest
                + ")");

  p->ft = std::make_unique<fasttext::FastText>();
  try {
    p->ft->loadModel(path);
  } catch (const std::exception& e) {
    return fail(std::string("fastText cannot load the model: ") + e.what());
  } catch (...) {
    return fail("fastText cannot load the model (unknown exception)");
  }
  if (auto e = p->bind(); !e.empty()) return fail(e);
  return std::shared_ptr<const intent_model>(new intent_model(std::move(p)));
}

} // namespace sa::classifier
