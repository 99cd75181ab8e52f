// intent_model: the local intent classifier, a fastText model with calibrated confidence.
//
// Plain class, no actors: trained or loaded once, shared read-only by every session's classifier
// (predict() is const and thread-safe). Labels: billing, technical, account, general,
// escalation_request, plus out_of_scope in training data, which predict() reports as general
// with out_of_scope = true and a low confidence.
#pragma once

#include "runtime/result.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sa::classifier {

struct labeled_example {
  std::string text;
  std::string label;
};

struct training_options {
  int epochs = 40;
  double learning_rate = 0.5;
  int word_ngrams = 2;
  int seed = 42;
  double holdout_share = 0.2;  ///< share held out (stratified) to fit the calibration temperature
  int dim = 50;                ///< embedding size
  int minn = 3;                ///< shortest character n-gram (subwords help with typos); 0 = none
  int maxn = 6;                ///< longest character n-gram; 0 = none
  int bucket = 100000;         ///< hash buckets for word and character n-grams (model size ~ bucket*dim*4 B)
};

struct prediction {
  std::string intent;          ///< one of the five product intents (out_of_scope maps to general)
  /// Calibrated probability of `intent`. When out of scope: min(probability of the best product
  /// label, 0.3). When the best label is below min_confidence: that label's (low) probability.
  /// Empty text: 0.
  double confidence = 0;
  bool out_of_scope = false;
  /// Every label (out_of_scope included) with its calibrated probability, best first; sums to 1.
  /// Empty for empty text.
  std::vector<std::pair<std::string, double>> ranked;
};

struct training_report {
  std::size_t examples = 0;
  std::size_t holdout = 0;
  double holdout_accuracy = 0;
  double temperature = 1;      ///< fitted calibration temperature
  double holdout_ece = 0;      ///< expected calibration error after calibration
};

/// Normalisation shared by training and prediction: lower-case (ASCII, Latin-1, Latin Extended-A,
/// Greek, Cyrillic), apostrophes dropped ("don't" -> "dont"), punctuation as separate tokens,
/// whitespace collapsed, invalid UTF-8 bytes dropped.
std::string normalize_text(std::string_view text);

/// Reads a labeled CSV with a header containing `text` and `intent` (RFC 4180 quoting).
/// Fails naming file, line and problem (missing column, unknown label, empty text).
result<std::vector<labeled_example>> read_labeled_csv(const std::string& path);

class intent_model {
public:
  static const std::vector<std::string>& labels();  ///< the six training labels

  /// Trains on `examples` (deterministic for a given seed), fits temperature scaling on a
  /// stratified holdout, then retrains on everything. Fails when a label has no example.
  static result<std::shared_ptr<const intent_model>> train(const std::vector<labeled_example>& examples,
                                                           const training_options& opts,
                                                           training_report* report = nullptr);

  /// Saves the model to `path` (+ `path`.meta.json with the temperature, labels and a checksum),
  /// writing to temporary files first and renaming, so a crash never leaves a half-written model.
  status save(const std::string& path) const;

  /// Loads a model saved by save(). A missing, truncated or corrupt file (checksum mismatch) fails
  /// with a message naming the file; never crashes.
  static result<std::shared_ptr<const intent_model>> load(const std::string& path);

  prediction predict(std::string_view text, double min_confidence) const;

  /// How this model was trained (from train(), or from the metadata file after load()).
  const training_report& report() const;

  ~intent_model();
  struct impl;
private:
  explicit intent_model(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace sa::classifier
